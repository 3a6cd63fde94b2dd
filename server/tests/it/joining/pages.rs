//! The agent portal and HQ network pages (filled in with the pages).
