DROP TRIGGER diversion_flow_scan_alerts ON diversion_alerts;
DROP TRIGGER diversion_flow_sightings ON sightings;
DROP FUNCTION diversion_flow_scan_alert();
DROP FUNCTION diversion_flow_sighting();
DROP FUNCTION diversion_flow_count(TEXT, TEXT, DATE, INTEGER);
DROP TABLE diversion_flow_days;
