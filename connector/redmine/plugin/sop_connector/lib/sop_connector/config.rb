# frozen_string_literal: true

module SopConnector
  # The plugin's settings (Administration > Plugins > SOP Connector > Configure).
  module Config
    DEFAULTS = {
      'service_url' => '',   # base URL of sop-connector, e.g. http://127.0.0.1:8080
      'secret' => '',        # the service's [webhooks] redmine_secret
      'projects' => '',      # project identifiers (subprojects included); empty: none
      'timeout' => '2'       # seconds for one delivery to the service
    }.freeze
    MAX_TIMEOUT = 10.0

    module_function

    def values
      raw = Setting.plugin_sop_connector
      raw = raw.to_unsafe_h if raw.respond_to?(:to_unsafe_h)
      DEFAULTS.merge((raw || {}).to_h.transform_keys(&:to_s))
    end

    def service_url
      values['service_url'].to_s.strip.chomp('/')
    end

    def secret
      values['secret'].to_s
    end

    def timeout
      seconds = Float(values['timeout'], exception: false) || 2.0
      seconds.clamp(0.1, MAX_TIMEOUT)
    end

    def project_identifiers
      values['projects'].to_s.split(/[\s,]+/).reject(&:empty?)
    end

    # Whether hints go out for this project: it or one of its ancestors is listed.
    def project?(project)
      return false if project.nil? || service_url.empty? || secret.empty?

      listed = project_identifiers
      project.self_and_ancestors.any? { |p| listed.include?(p.identifier) }
    end
  end
end
