DROP TRIGGER diversion_flow_scan_alerts;
DROP TRIGGER diversion_flow_sightings;
DROP TABLE diversion_flow_days;
