"""The office's landing pages (blueprint "dashboard", URLs under /desk): the desk's day and the
supervisor's board. They read the other domains; nothing is written here."""
