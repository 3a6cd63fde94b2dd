DROP TABLE job_runs;
DROP TABLE server_facts;
