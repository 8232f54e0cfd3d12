# frozen_string_literal: true

module SopConnector
  # The body of a hint, in the shape of Redmine 7's native issue webhooks:
  # {"type": "issue.updated", "timestamp": ..., "data": {"issue": {...}, "journal": {...}}}.
  # The service trusts nothing in it beyond the issue id; it re-reads the issue over REST.
  module Payload
    module_function

    def for_issue(issue, type, journal = nil)
      data = { 'issue' => issue_hash(issue) }
      data['journal'] = journal_hash(journal) if journal
      { 'type' => type, 'timestamp' => time(Time.now), 'data' => data }.to_json
    end

    def issue_hash(issue)
      {
        'id' => issue.id,
        'project' => named(issue.project),
        'tracker' => named(issue.tracker),
        'status' => status(issue.status),
        'priority' => named(issue.priority),
        'author' => named(issue.author),
        'assigned_to' => named(issue.assigned_to),
        'parent' => { 'id' => issue.parent_id },
        'subject' => issue.subject,
        'description' => issue.description,
        'start_date' => issue.start_date&.iso8601,
        'due_date' => issue.due_date&.iso8601,
        'done_ratio' => issue.done_ratio,
        'is_private' => issue.is_private,
        'estimated_hours' => issue.estimated_hours,
        'total_estimated_hours' => issue.total_estimated_hours,
        'spent_hours' => issue.spent_hours.to_f,
        'total_spent_hours' => issue.total_spent_hours.to_f,
        'custom_fields' => custom_fields(issue),
        'created_on' => time(issue.created_on),
        'updated_on' => time(issue.updated_on),
        'closed_on' => time(issue.closed_on)
      }.tap { |h| h.delete('parent') unless issue.parent_id } # as Redmine's API: no parent key
    end

    def journal_hash(journal)
      {
        'id' => journal.id,
        'created_on' => time(journal.created_on),
        'notes' => journal.notes,
        'user' => named(journal.user),
        'details' => journal.details.map do |d|
          { 'property' => d.property, 'prop_key' => d.prop_key,
            'old_value' => d.old_value, 'value' => d.value }
        end
      }
    end

    def custom_fields(issue)
      issue.custom_field_values.map do |cfv|
        field = cfv.custom_field
        entry = { 'id' => field.id, 'name' => field.name }
        entry['multiple'] = true if field.multiple?
        entry['value'] = field.multiple? ? Array(cfv.value).reject(&:blank?) : cfv.value
        entry
      end
    end

    def named(record)
      record && { 'id' => record.id, 'name' => record.name }
    end

    def status(status)
      status && { 'id' => status.id, 'name' => status.name, 'is_closed' => status.is_closed? }
    end

    def time(value)
      value&.utc&.iso8601
    end
  end
end
