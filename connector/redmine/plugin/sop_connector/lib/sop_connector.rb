# frozen_string_literal: true

# The plugin's namespace. Each class lives in lib/sop_connector/<name>.rb (Zeitwerk layout).
module SopConnector
  VERSION = '0.1.0'

  # Adds the callbacks and validations to Redmine's models; safe to call again on reload.
  def self.install_patches
    Issue.include(IssuePatch) unless Issue.include?(IssuePatch)
    Journal.include(JournalPatch) unless Journal.include?(JournalPatch)
    Hooks # a view listener registers itself when its class is loaded
  end
end
