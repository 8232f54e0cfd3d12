# frozen_string_literal: true

require 'json'
require 'net/http'

module SopConnector
  # Fetches the panel's data from the service (GET /api/redmine/issues/:id/panel) with a short
  # timeout. Answers are cached for a little while (keyed by the issue's updated_on, so a
  # change shows at once); a service that is down is remembered briefly too, so a page view
  # never waits for it more than once in that time.
  module Panel
    TIMEOUT = 1.0
    FRESH = 30 # seconds an answer is reused
    DOWN = 10 # seconds a failure is remembered

    module_function

    # [:ok, data], [:down, nil] or [:none, nil] (not an SOP issue, or not configured).
    def for_issue(issue)
      return [:none, nil] unless Config.project?(issue.project)

      key = "sop_connector/panel/#{issue.id}/#{issue.updated_on.to_i}"
      cached = Rails.cache.read(key)
      return cached if cached

      answer = fetch(issue.id)
      Rails.cache.write(key, answer, expires_in: answer.first == :down ? DOWN : FRESH)
      answer
    end

    def fetch(issue_id)
      uri = URI.join("#{Config.service_url}/", "api/redmine/issues/#{issue_id.to_i}/panel")
      http = Net::HTTP.new(uri.host, uri.port, nil)
      http.use_ssl = uri.scheme == 'https'
      http.open_timeout = http.read_timeout = [Config.timeout, TIMEOUT].min
      http.max_retries = 0 # Net::HTTP retries a timed-out GET once: one wait, not two
      request = Net::HTTP::Get.new(uri.request_uri)
      request['Authorization'] = "Bearer #{Config.secret}"
      request['Accept'] = 'application/json'
      response = http.request(request)
      return [:none, nil] if response.code == '404'
      return [:down, nil] unless response.code == '200'

      [:ok, JSON.parse(response.body)]
    rescue StandardError => e
      Rails.logger.warn("sop_connector: panel not available (#{e.class}: #{e.message})")
      [:down, nil]
    end
  end
end
