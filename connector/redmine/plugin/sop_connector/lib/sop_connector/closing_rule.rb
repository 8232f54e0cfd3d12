# frozen_string_literal: true

module SopConnector
  # Refuses a closing status change that breaks what the service wrote on the step subtask.
  #
  # The service writes the "Aturan Langkah" field (one "key: value" a line: langkah, peran,
  # boleh, dokumen, tim_pengembang, tim_fungsi, temuan with status_tidak). Only the stored value counts, never one sent with the
  # same save, and only an administrator (the service's account) may change it. Closings by
  # an administrator are not checked: the service's own account cancels and closes steps
  # (its engine still checks every closing, as on a Redmine without this plugin).
  class ClosingRule
    RULES_FIELD = 'Aturan Langkah'
    TEAM_FIELD = 'Tim Pengembang'
    FINDINGS_FIELD = 'Temuan Verifikasi'

    def self.errors_for(issue, user)
      field = IssueCustomField.find_by(name: RULES_FIELD)
      field ? new(issue, user, field).errors : []
    end

    def initialize(issue, user, field)
      @issue = issue
      @user = user
      @field = field
    end

    def errors
      return [message(:rules_locked)] if rules_changed? && !@user.admin?
      return [] if !closing? || @user.admin?

      rules = parse(stored_rules)
      return [] if rules.empty?

      [role_error(rules), document_error(rules), team_error(rules),
       findings_error(rules)].compact
    end

    private

    def closing?
      @issue.status_id_changed? && @issue.status&.is_closed?
    end

    def stored_rules
      return '' if @issue.new_record?

      CustomValue.where(customized_type: 'Issue', customized_id: @issue.id,
                        custom_field_id: @field.id).pick(:value).to_s
    end

    def rules_changed?
      submitted = @issue.custom_field_value(@field)
      return false if submitted.nil? || @issue.new_record?

      normalize(submitted) != normalize(stored_rules)
    end

    def role_error(rules)
      allowed = rules.fetch('boleh', '').split(/[\s,]+/).reject(&:empty?)
      return nil if allowed.include?(@user.login)

      message(:wrong_role, step: rules['langkah'], role: rules['peran'],
                           who: allowed.empty? ? '-' : allowed.join(', '),
                           login: @user.logged? ? @user.login : @user.name)
    end

    def document_error(rules)
      return nil unless rules.key?('dokumen')
      return outputs_error(rules) if rules.key?('keluaran')
      return nil if round_files(rules).any?

      message(:missing_document, documents: rules['dokumen'])
    end

    # Several outputs: one file each, its name (as a slug) containing the output's slug, as the
    # service's engine checks (connector.workflow.engine.output_file_matches).
    def outputs_error(rules)
      names = round_files(rules).map { |a| slug(a.filename) }
      outputs = rules['dokumen'].split(';').map(&:strip)
      slugs = rules['keluaran'].split(';').map(&:strip)
      missing = outputs.zip(slugs).reject do |_, wanted|
        names.any? { |name| "-#{name}-".include?("-#{wanted}-") }
      end
      return nil if missing.empty?

      message(:missing_outputs, missing: missing.map(&:first).join('; '),
                                examples: slugs.map { |s| "#{s}.pdf" }.join(', '))
    end

    # The files of this round: after berkas_sejak (the step's last completion, a loop sent the
    # case back), in whole seconds as the service reads Redmine's times; new ones always count.
    def round_files(rules)
      files = @issue.attachments.to_a
      since = begin
        Time.iso8601(rules['berkas_sejak']) if rules.key?('berkas_sejak')
      rescue ArgumentError
        nil
      end
      files = files.select { |a| a.created_on.to_i > since.to_i } if since
      files + @issue.saved_attachments.to_a
    end

    def slug(text)
      text.to_s.downcase.scan(/[[:alnum:]]+/).join('-')
    end

    # The team is Tim Pengembang together with the per-function fields the rules name
    # ("tim_fungsi: Tim: IT Project Manager; Tim: Programmer; ..."): any of them filled will do.
    def team_error(rules)
      return nil unless rules.key?('tim_pengembang')

      names = [TEAM_FIELD, *rules.fetch('tim_fungsi', '').split(';').map(&:strip)]
      fields = IssueCustomField.where(name: names.reject(&:empty?))
      chosen = fields.any? { |field| Array(@issue.custom_field_value(field)).reject(&:blank?).any? }
      return nil if chosen

      message(:missing_team)
    end

    # A "tidak" (a closing status listed in status_tidak) must choose what is missing.
    def findings_error(rules)
      return nil unless rules.key?('temuan')

      tidak = rules.fetch('status_tidak', '').split(',').map(&:strip)
      return nil unless tidak.include?(@issue.status&.name)

      field = IssueCustomField.find_by(name: FINDINGS_FIELD)
      chosen = field && Array(@issue.custom_field_value(field)).reject(&:blank?)
      return nil if chosen.present?

      message(:missing_findings, field: FINDINGS_FIELD,
                                 values: field ? field.possible_values.join(', ') : '-',
                                 status: @issue.status.name, step: rules['langkah'])
    end

    def parse(text)
      text.each_line.with_object({}) do |line, rules|
        key, sep, value = line.partition(':')
        rules[key.strip] = value.strip unless sep.empty? || key.strip.empty?
      end
    end

    def normalize(value)
      value.to_s.gsub("\r\n", "\n").strip
    end

    # Indonesian whatever the user's language: the SOP and its people speak it.
    def message(key, **values)
      ::I18n.t("sop_connector_refusal_#{key}", locale: :id, **values)
    end
  end
end
