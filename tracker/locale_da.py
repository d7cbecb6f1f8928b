"""The Danish catalogue: English message → Danish message.

Placeholders ({id}, {count}, …) must survive translation unchanged;
tests/test_i18n.py checks that, and that every message in the code is here.
"""

CATALOGUE: dict[str, str] = {
    # Statuses (looked up from tracker.model.Status.label)
    "not started": "ikke påbegyndt",
    "in progress": "i gang",
    "at risk": "i risiko",
    "done": "færdig",
    "cancelled": "aflyst",
    # Command line
    "Choose one of --json and --csv.": "Vælg enten --json eller --csv.",
    "give a full http(s) URL, e.g. https://example.org/report.pdf":
        "angiv en fuld http(s)-adresse, fx https://example.org/rapport.pdf",
    "the note is empty": "noten er tom",
    "The register {path} is valid: {deliverables} deliverables ({occurrences} occurrences), {parties} parties, "
    "{themes} themes.":
        "Registret {path} er gyldigt: {deliverables} leverancer ({occurrences} forekomster), {parties} parter, "
        "{themes} temaer.",
    "Synced the register into {url}: {added} added, {updated} updated, {replanned} re-planned, {archived} archived, "
    "{restored} restored, {unchanged} unchanged.":
        "Registret er indlæst i {url}: {added} tilføjet, {updated} opdateret, {replanned} omplanlagt, "
        "{archived} arkiveret, {restored} genoprettet, {unchanged} uændret.",
    "Overdue as of {day} ({count}):": "Overskredet pr. {day} ({count}):",
    "Due in the next {days} days ({count}):": "Forfalder inden for {days} dage ({count}):",
    "{label} is now {status}.": "{label} er nu {status}.",
    "{id} is re-planned to {deadline!r}.": "{id} er omplanlagt til {deadline!r}.",
    "Noted on {id}.": "Note tilføjet til {id}.",
    "The database {url} is at the current schema.": "Databasen {url} har det aktuelle skema.",
    "The database {url} already matches the register; nothing changed.":
        "Databasen {url} svarer allerede til registret; intet er ændret.",
    "{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-06-30.":
        "{value!r} er ikke en dato; skriv den som ÅÅÅÅ-MM-DD, fx 2026-06-30.",
    # Status rules
    "work that has begun cannot become not started again": "arbejde, der er begyndt, kan ikke blive ikke påbegyndt igen",
    "that step skips how the work actually moves": "det trin springer over, hvordan arbejdet faktisk bevæger sig",
    "The status is already {status}; nothing to change.": "Status er allerede {status}; intet at ændre.",
    "Cannot change the status from {current} to {new}: {reason}. From {current} it can become: {allowed}.":
        "Status kan ikke ændres fra {current} til {new}: {reason}. Fra {current} kan den blive: {allowed}.",
    # Register problems
    "Fix them and run `tracker validate` again. The format is described in docs/register.md.":
        "Ret dem og kør `tracker validate` igen. Formatet er beskrevet i docs/register.md.",
    "{count} problem in the register {filename}:": "{count} problem i registret {filename}:",
    "{count} problems in the register {filename}:": "{count} problemer i registret {filename}:",
    # Tables and the detail view
    "Due": "Frist",
    "Id": "Id",
    "Owner": "Ansvarlig",
    "Status": "Status",
    "Title": "Titel",
    "Kind": "Type",
    "Co-owners": "Medansvarlige",
    "Recipient": "Modtager",
    "Theme": "Tema",
    "Initiative": "Initiativ",
    "Deadline": "Frist (tekst)",
    "Read as": "Læst som",
    "Reading": "Læsning",
    "Depends on": "Afhænger af",
    "Funding": "Finansiering",
    "Occurrences:": "Forekomster:",
    "History:": "Historik:",
    "(nothing)": "(ingen)",
    "Title (da)": "Titel (da)",
    "Title (en)": "Titel (en)",
    "ARCHIVED: no longer in the register": "ARKIVERET: ikke længere i registret",
    "Source: {file}, section {section!r}:": "Kilde: {file}, afsnit {section!r}:",
    "OVERDUE {days} d": "OVERSKREDET {days} d",
    "baseline": "oprindelig frist",
    "Note": "Note",
    "archived": "arkiveret",
    # Ids and occurrences
    " See `tracker list` for every id.": " Se `tracker list` for alle id'er.",
    " Did you mean: {ids}?": " Mente du: {ids}?",
    "No deliverable has the id {id!r}.": "Ingen leverance har id'et {id!r}.",
    "{id} has no occurrence in {year}. Its occurrences are: {years}.":
        "{id} har ingen forekomst i {year}. Dens forekomster er: {years}.",
    "{id} recurs every year ({years}). Name the one you mean with --occurrence YEAR.":
        "{id} gentages hvert år ({years}). Angiv hvilken med --occurrence ÅR.",
    "{id} does not recur; leave out --occurrence.": "{id} gentages ikke; udelad --occurrence.",
    "One occurrence gets one deadline, not the recurrence {text!r}. Leave out --occurrence to re-plan the whole "
    "series.":
        "Én forekomst får én frist, ikke gentagelsen {text!r}. Udelad --occurrence for at omplanlægge hele serien.",
    # Database
    "Cannot use the database {url}: {detail}. Check DATABASE_URL and that the server runs.":
        "Databasen {url} kan ikke bruges: {detail}. Tjek DATABASE_URL, og at serveren kører.",
    "The database {url} has no tracker tables yet. Run `tracker sync` to create them and load the register.":
        "Databasen {url} har endnu ingen tracker-tabeller. Kør `tracker sync` for at oprette dem og indlæse registret.",
    "The database {url} is at schema {found}, this tracker expects {expected}. Run `tracker db upgrade` (or upgrade "
    "tracker if the database is newer).":
        "Databasen {url} har skema {found}, denne tracker forventer {expected}. Kør `tracker db upgrade` (eller "
        "opgradér tracker, hvis databasen er nyere).",
    "The database URL {url} cannot be read. Use sqlite:///PATH or postgresql://USER:PASSWORD@HOST/NAME in "
    "DATABASE_URL.":
        "Databaseadressen {url} kan ikke læses. Brug sqlite:///STI eller postgresql://BRUGER:ADGANGSKODE@VÆRT/NAVN "
        "i DATABASE_URL.",
    "Cannot use the database {url}: {error}": "Databasen {url} kan ikke bruges: {error}",
    "The database {url} refused a query ({error}). Run `tracker db upgrade`.":
        "Databasen {url} afviste en forespørgsel ({error}). Kør `tracker db upgrade`.",
    "The database {url} failed: {error}": "Databasen {url} fejlede: {error}",
    "The database {url} is locked by another process, most likely the running tracker service. Nothing was changed. "
    "Try again in a moment; if it stays locked, check for a stuck `tracker` process.":
        "Databasen {url} er låst af en anden proces, sandsynligvis den kørende tracker-tjeneste. Intet er ændret. "
        "Prøv igen om lidt; hvis den forbliver låst, så se efter en hængende `tracker`-proces.",
    "Cannot open the database file {url} ({detail}). Check that its folder exists and is writable, or point "
    "DATABASE_URL at another file (sqlite:///PATH).":
        "Databasefilen {url} kan ikke åbnes ({detail}). Tjek at mappen findes og er skrivbar, eller peg DATABASE_URL "
        "på en anden fil (sqlite:///STI).",
    "The database {url} has no tracker tables yet. Run `tracker sync` first.":
        "Databasen {url} har endnu ingen tracker-tabeller. Kør `tracker sync` først.",
}
