// How large a suite may be, in a module of its own so the command line's --help can say it without loading the loader.

/**
 * Cases one suite may expand to (its matrices' products before exclude, plus includes): beyond it a
 * suite is a mistake or an attack, refused before anything is expanded (100,000 load in ~2.5 s).
 */
export const MAX_SUITE_CASES = 100_000;
