DROP TABLE certificates;
DROP TABLE applications;
DROP TABLE invitations;
DROP TABLE join_fields;
