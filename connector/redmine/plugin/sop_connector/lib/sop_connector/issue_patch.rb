# frozen_string_literal: true

module SopConnector
  # Issue callbacks: a hint after the save's transaction has committed, for every path that
  # saves an issue (web form, REST, bulk edit, context menu, e-mail, import).
  module IssuePatch
    def self.included(base)
      base.validate :sop_connector_closing_allowed
      base.after_create_commit :sop_connector_hint_created
      base.after_update_commit :sop_connector_hint_updated
    end

    private

    # A closing status change that breaks the step's rules is refused before the save: the
    # form shows the message in Redmine's error box, REST answers 422 with it.
    def sop_connector_closing_allowed
      ClosingRule.errors_for(self, User.current).each { |message| errors.add(:base, message) }
    end

    def sop_connector_hint_created
      Hints.issue_saved(self, 'issue.created', nil)
    end

    def sop_connector_hint_updated
      journal = current_journal
      Hints.issue_saved(self, 'issue.updated', journal&.persisted? ? journal : nil)
    end
  end
end
