DROP TABLE code_packs;
DROP TABLE batch_jobs;
