# frozen_string_literal: true

# What `sop-connector doctor` asks the plugin: is it loaded, which version, and does a hint
# signed with its settings reach the service (a synchronous test ping, short timeout).
class SopConnectorStatusController < ApplicationController
  accept_api_auth :show
  before_action :require_admin

  def show
    render json: { 'plugin' => 'sop_connector', 'version' => SopConnector::VERSION,
                   'redmine' => Redmine::VERSION.to_s,
                   'projects' => SopConnector::Config.project_identifiers,
                   'ping' => SopConnector::Ping.call }
  end
end
