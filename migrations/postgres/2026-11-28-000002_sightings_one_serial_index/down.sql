CREATE INDEX sightings_serial ON sightings(serial);
