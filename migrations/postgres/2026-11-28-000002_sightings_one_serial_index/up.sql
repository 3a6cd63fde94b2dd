-- sightings_serial_id (serial, id) answers every look-up by serial; a second index on serial alone
-- only cost a random page write per verification.
DROP INDEX sightings_serial;
