# frozen_string_literal: true

# The set-up of sop-connector as a plugin task (the same idempotent script as
# `bin/rails runner setup.rb`, run where the plugin is installed):
#
#   sop-connector redmine-setup > setup.rb
#   RAILS_ENV=production bin/rake redmine:plugins:sop_connector:setup SCRIPT=setup.rb
namespace :redmine do
  namespace :plugins do
    namespace :sop_connector do
      desc 'Apply the set-up printed by `sop-connector redmine-setup` (SCRIPT=setup.rb); idempotent'
      task setup: :environment do
        script = ENV['SCRIPT'].to_s
        abort 'usage: bin/rake redmine:plugins:sop_connector:setup SCRIPT=setup.rb' if script.empty?
        abort "no such file: #{script}" unless File.file?(script)

        load File.expand_path(script)
      end
    end
  end
end
