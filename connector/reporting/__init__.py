"""Reports on the cases for people: the dashboard's read model and the monthly recap.

Read-only over the store; nothing here calls Redmine or GitLab, so a report never waits on
them and never changes a case.
"""
