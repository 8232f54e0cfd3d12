# frozen_string_literal: true

module SopConnector
  # The SOP panel at the bottom of an issue's details (cases and step subtasks).
  class Hooks < Redmine::Hook::ViewListener
    render_on :view_issues_show_details_bottom, partial: 'sop_connector/panel'
  end
end
