-- catalog_sync.safe_url(p_url text) -> text
--
-- Filters a user-supplied URL (company website, portfolio link, ...) before it
-- is published: returns the URL with surrounding ASCII whitespace removed when
-- it is an absolute http:// or https:// URL (scheme in any case) with a host,
-- at most 2048 characters long, and free of whitespace, control characters,
-- invisible characters (bidirectional controls such as U+202E, which make
-- "https://a.example/<U+202E>gnp.exe" read as "...exe.png": red team,
-- fiftieth session; zero-width ones, the soft hyphen, the tag characters,
-- the Hangul fillers; but not the zero-width joiner and non-joiner, U+200C
-- and U+200D, which Persian and Indic names and emoji sequences need),
-- quotes (" ' `), '<', '>' and '\'; otherwise NULL.  Such a URL can be placed
-- in a double-quoted HTML attribute and cannot carry another scheme
-- (javascript:, data:, ...).
--
-- The host part is a non-empty name or a bracketed IPv6 address, optionally
-- with a numeric port.  URLs with credentials (http://user@host/) are refused
-- as well: "https://trusted.example@evil.example/" is a classic phishing form.
-- The backtick is refused because old browsers accepted it as a quote.
--
-- Regular expressions use explicit code-point classes only (no [[:space:]]),
-- so the result does not depend on the database's locale (IMMUTABLE). They are
-- E'' strings with doubled backslashes, read the same whatever the session's
-- standard_conforming_strings (see sanitize_html()).
--
-- One regular expression checks it all: the surrounding whitespace, the
-- scheme and host, and no forbidden character anywhere (a forbidden
-- character class excluded from the host and the rest). Each call of one
-- costs several thousand instructions, and the function runs on every
-- projection of a job (the company logo): the first form, two expressions
-- and four btrim() calls, cost 50,000 instructions a call, this one 43,000.
-- The whitespace is space, \t, \n, \r, \f and vertical tab: in btrim()'s
-- set the vertical tab is E'\x0B', since an E'' string reads \v as a plain
-- 'v' (the first form trimmed the letter v off both ends of a URL; a test
-- in tests/test_sanitizer.py).
CREATE OR REPLACE FUNCTION catalog_sync.safe_url(p_url text)
RETURNS text
LANGUAGE sql
-- Inlined into the projections' queries (no per-call function overhead): hence
-- no SET clause, no STRICT (a NULL argument still gives NULL), no FROM in the
-- body. EXECUTE is the owner's alone, so it only ever runs inside the sync's
-- definer functions, under their pinned search_path.
IMMUTABLE PARALLEL SAFE
AS $function$
    SELECT CASE
               WHEN (length(p_url) <= 2048 OR length(btrim(p_url, E' \t\n\r\f\x0B')) <= 2048)
                    AND p_url
                        ~ E'^[ \\t\\n\\r\\f\\v]*[hH][tT][tT][pP][sS]?://(?:[^/?#@:\\[\\]\\u0001-\\u0020\\u007F-\\u009F"''`<>\\\\\\u00A0\\u1680\\u00AD\\u034F\\u061C\\u115F\\u1160\\u180E\\u2000-\\u200B\\u200E\\u200F\\u2028-\\u202F\\u205F-\\u206F\\u3000\\u3164\\uFEFF\\uFFA0\\uFFF9-\\uFFFB\\U0001D173-\\U0001D17A\\U000E0000-\\U000E007F]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?(?:[/?#][^\\u0001-\\u0020\\u007F-\\u009F"''`<>\\\\\\u00A0\\u1680\\u00AD\\u034F\\u061C\\u115F\\u1160\\u180E\\u2000-\\u200B\\u200E\\u200F\\u2028-\\u202F\\u205F-\\u206F\\u3000\\u3164\\uFEFF\\uFFA0\\uFFF9-\\uFFFB\\U0001D173-\\U0001D17A\\U000E0000-\\U000E007F]*)?[ \\t\\n\\r\\f\\v]*$'
               THEN btrim(p_url, E' \t\n\r\f\x0B')
           END
$function$;

ALTER FUNCTION catalog_sync.safe_url(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.safe_url(text) FROM PUBLIC;
