# Configure a Redmine instance for reporter-app's tests. Run by scripts/redmine-up with `rails runner`.
# Idempotent. Prints KEY=VALUE lines (shell syntax) for the env file.

# Redmine's default data (trackers, statuses, priorities, roles): a database new from `rake db:migrate` has none.
Redmine::DefaultData::Loader.load('en') if Tracker.none?

Setting.rest_api_enabled = '1'
Setting.login_required = '1'

admin = User.find_by_login!('admin')
admin.update!(must_change_passwd: false)  # else HTTP Basic admin:admin -> 403

# Issue custom fields the backends use. Lookup fields need is_filter, or cf_N= filters are ignored.
def issue_cf(name, format, extra = {})
  cf = IssueCustomField.find_or_initialize_by(name: name)
  cf.attributes = { field_format: format, is_filter: true, searchable: true, is_for_all: true,
                    visible: true, is_required: false }.merge(extra)
  cf.tracker_ids = Tracker.pluck(:id)
  cf.save!
  cf
end

fingerprint = issue_cf('fingerprint', 'string')
idempotency = issue_cf('idempotency_key', 'string')
impact = issue_cf('impact', 'list', possible_values: %w[blocker major minor cosmetic])
reach = issue_cf('reach', 'list', possible_values: %w[just_me my_team many_users])
fields = [fingerprint, idempotency, impact, reach]

project = Project.find_by(identifier: 'bugreports') || Project.new(identifier: 'bugreports')
project.attributes = { name: 'Bug reports', is_public: false }
project.enabled_module_names = %w[issue_tracking]
project.tracker_ids = Tracker.pluck(:id)
project.issue_custom_field_ids = fields.map(&:id)
project.save!

# A non-admin user with the Reporter role: for permission errors (403) and "not my ticket" cases.
reporter = User.find_by_login('reporter') || User.new(firstname: 'Rita', lastname: 'Reporter',
                                                       mail: 'reporter@example.com')
reporter.login = 'reporter'
reporter.password = reporter.password_confirmation = 'reporter-password'
reporter.must_change_passwd = false
reporter.status = User::STATUS_ACTIVE
reporter.save!
role = Role.find_by!(name: 'Reporter')
unless Member.exists?(project_id: project.id, user_id: reporter.id)
  Member.create!(project: project, principal: reporter, role_ids: [role.id])
end

puts "REDMINE_API_KEY=#{admin.api_key}"
puts "REDMINE_PROJECT=#{project.identifier}"
puts "REDMINE_REPORTER_LOGIN=#{reporter.login}"
puts "REDMINE_REPORTER_API_KEY=#{reporter.api_key}"
fields.each { |cf| puts "REDMINE_CF_#{cf.name.upcase}=#{cf.id}" }
puts "REDMINE_VERSION=#{Redmine::VERSION}"
