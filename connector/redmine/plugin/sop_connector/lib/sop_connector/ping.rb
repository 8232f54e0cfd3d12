# frozen_string_literal: true

module SopConnector
  # One signed test delivery to the service, now: {"status" => 200} or {"error" => "..."}.
  # The body has the Redmine 7 envelope with an event the service does not route, so a
  # service with the same secret answers 200 {"ignored": ...} and stores nothing; a wrong
  # secret answers 401.
  module Ping
    module_function

    def call
      url = Config.service_url
      return { 'error' => 'no service URL configured' } if url.empty?
      return { 'error' => 'no secret configured' } if Config.secret.empty?

      body = { 'type' => 'sop_connector.ping', 'timestamp' => Time.now.utc.iso8601,
               'data' => {} }.to_json
      status = Sender.post(URI.join("#{url}/", 'webhooks/redmine'), body,
                           Sender.signature(Config.secret, body), Config.timeout)
      { 'status' => status }
    rescue StandardError => e
      { 'error' => "#{e.class}: #{e.message}" }
    end
  end
end
