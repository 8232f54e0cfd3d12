# frozen_string_literal: true

require 'net/http'
require 'openssl'
require 'uri'

module SopConnector
  # Posts hints to the service from one background thread, never from the request thread.
  #
  # A save only puts the signed body on a bounded queue (microseconds); the thread posts it
  # with a short timeout. A full queue, a refused connection or a timeout drops the hint:
  # the service's poll finds the change anyway (a hint is only a hint).
  module Sender
    QUEUE_SIZE = 200
    SIGNATURE_HEADER = 'X-Redmine-Signature-256'

    @lock = Mutex.new

    class << self
      def deliver_later(body)
        url = Config.service_url
        secret = Config.secret
        return false if url.empty? || secret.empty?

        item = [URI.join("#{url}/", 'webhooks/redmine'), body, signature(secret, body),
                Config.timeout]
        queue.push(item, true)
        true
      rescue ThreadError # queue full
        Rails.logger.warn('sop_connector: hint queue full, hint dropped (the poll recovers it)')
        false
      end

      def signature(secret, body)
        "sha256=#{OpenSSL::HMAC.hexdigest('SHA256', secret, body)}"
      end

      # Posts now and returns the HTTP status (or raises); used by the worker and test pings.
      def post(uri, body, signature, timeout)
        http = Net::HTTP.new(uri.host, uri.port, nil) # no proxy: the service is near Redmine
        http.use_ssl = uri.scheme == 'https'
        http.open_timeout = http.read_timeout = http.write_timeout = timeout
        request = Net::HTTP::Post.new(uri.request_uri)
        request['Content-Type'] = 'application/json'
        request['User-Agent'] = "Redmine/#{Redmine::VERSION} sop_connector/#{VERSION}"
        request[SIGNATURE_HEADER] = signature
        request.body = body
        http.request(request).code.to_i
      end

      private

      def queue
        @lock.synchronize do
          if @worker.nil? || !@worker.alive? || @pid != Process.pid # a forked server lost it
            @pid = Process.pid
            @queue = SizedQueue.new(QUEUE_SIZE)
            @worker = Thread.new(@queue) { |q| work(q) }
            @worker.name = 'sop_connector hints' if @worker.respond_to?(:name=)
          end
          @queue
        end
      end

      def work(queue)
        loop do
          uri, body, signature, timeout = queue.pop
          begin
            status = post(uri, body, signature, timeout)
            Rails.logger.warn("sop_connector: the service answered #{status}") if status >= 300
          rescue StandardError => e
            Rails.logger.warn("sop_connector: hint not delivered (#{e.class}: #{e.message})")
          end
        end
      end
    end
  end
end
