DROP TABLE consent_denials;
