-- The language of the app for a profile: 'en' or 'fr'; NULL follows the system's language.
ALTER TABLE profile_settings ADD COLUMN language text CHECK (language IN ('en', 'fr'));
