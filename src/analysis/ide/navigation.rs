//! Go to definition, references, highlights, hover, rename, symbols (filled in by the navigation work).
