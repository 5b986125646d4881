"""index stage of policyqa."""
