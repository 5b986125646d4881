"""eval stage of policyqa."""
