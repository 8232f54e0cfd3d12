# frozen_string_literal: true

# GET /sop_connector/status.json (administrators, API key accepted): the plugin's version and
# a signed test ping to the service, for `sop-connector doctor`.
get 'sop_connector/status', to: 'sop_connector_status#show', as: 'sop_connector_status'
