"""Recovery of the store from Redmine, the source of truth (issue 15)."""
