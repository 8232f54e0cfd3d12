# frozen_string_literal: true

# sop_connector: the Redmine side of sop-connector (Diskominfo Sumbawa's SOP "Layanan
# Permohonan Pembuatan Aplikasi"). Plain Ruby, no gems beyond Redmine's own.
#
# Redmine runs this file from a to_prepare block after Zeitwerk is set up (5.0, 5.1 and 6.x
# alike), so the constants below autoload from lib/ (one constant per file, as Zeitwerk wants).
Redmine::Plugin.register :sop_connector do
  name 'SOP Connector'
  author 'Diskominfo Kabupaten Sumbawa'
  description 'Hints after commit for sop-connector, signed like Redmine 7 webhooks; ' \
              'refuses a wrong closure of an SOP step in the form'
  version SopConnector::VERSION
  url 'https://sop-connector.invalid/plugin-redmine'
  requires_redmine version_or_higher: '5.0.0'
  settings default: SopConnector::Config::DEFAULTS, partial: 'settings/sop_connector'
end

SopConnector.install_patches
