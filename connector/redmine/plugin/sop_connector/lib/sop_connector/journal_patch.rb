# frozen_string_literal: true

module SopConnector
  # A journal written without saving its issue (a note added on its own) is hinted here; a
  # journal saved with its issue is already named by the issue's hint.
  module JournalPatch
    def self.included(base)
      base.after_create_commit :sop_connector_hint
    end

    private

    def sop_connector_hint
      issue = journalized
      return unless issue.is_a?(Issue)
      return if issue.current_journal.equal?(self)

      Hints.issue_saved(issue, 'issue.updated', self)
    end
  end
end
