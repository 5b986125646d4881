"""qa stage of policyqa."""
