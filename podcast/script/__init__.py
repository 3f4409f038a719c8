"""The script stage's checks: text predicates (``checks``) and the linter (``lint``)."""
