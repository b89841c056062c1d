-- attempts: a line comment ended by a lone carriage return, then a second statement
SELECT id_number, person_name AS leak FROM deaths -- a comment; SET enable_external_access = true
