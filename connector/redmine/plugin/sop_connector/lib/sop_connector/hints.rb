# frozen_string_literal: true

module SopConnector
  # Decides whether a committed change is hinted, and never lets a hint fail a save.
  module Hints
    module_function

    def issue_saved(issue, type, journal)
      return unless Config.project?(issue.project)

      Sender.deliver_later(Payload.for_issue(issue, type, journal))
    rescue StandardError => e
      Rails.logger.error("sop_connector: no hint for issue #{issue.id} (#{e.class}: #{e.message})")
    end
  end
end
