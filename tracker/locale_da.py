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
    "{restored} restored, {renamed} renamed, {unchanged} unchanged; {parties} parties and {themes} themes changed; "
    "{history} changes in the history.":
        "Registret er indlæst i {url}: {added} tilføjet, {updated} opdateret, {replanned} omplanlagt, "
        "{archived} arkiveret, {restored} genoprettet, {renamed} omdøbt, {unchanged} uændret; {parties} parter og "
        "{themes} temaer ændret; {history} ændringer i historikken.",
    "Overdue as of {day} ({count}):": "Overskredet pr. {day} ({count}):",
    "Due in the next {days} days ({count}):": "Forfalder inden for {days} dage ({count}):",
    "{label} is now {status}.": "{label} er nu {status}.",
    "{id} is re-planned to {deadline!r}.": "{id} er omplanlagt til {deadline!r}.",
    "Noted on {id}.": "Note tilføjet til {id}.",
    "The database {url} is at the current schema.": "Databasen {url} har det aktuelle skema.",
    "The database {url} already matches the register; nothing changed.":
        "Databasen {url} svarer allerede til registret; intet er ændret.",
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
    # Calendar feeds (tracker feed …, tracker serve, the events' text)
    "Anyone with the address can read the feed. It is shown only now; if it is lost or leaks, revoke the feed "
    "and create a new one.":
        "Alle med adressen kan læse kalenderen. Den vises kun nu; hvis den bliver væk eller slipper ud, så "
        "tilbagekald kalenderen og opret en ny.",
    "Name": "Navn",
    "Shows": "Viser",
    "Alarm": "Påmindelse",
    "Language": "Sprog",
    "Created": "Oprettet",
    "Revoked": "Tilbagekaldt",
    "the whole plan": "hele planen",
    "Note: the address is not https. Set TRACKER_BASE_URL to the public https address of the web process, so the "
    "token does not travel in clear text.":
        "Bemærk: adressen er ikke https. Sæt TRACKER_BASE_URL til webprocessens offentlige https-adresse, så "
        "nøglen ikke sendes i klartekst.",
    "No feeds yet. Create one with `tracker feed create --name NAME`.":
        "Ingen kalendere endnu. Opret en med `tracker feed create --name NAVN`.",
    "Created the feed {name}. Subscribe with one of these addresses:":
        "Kalenderen {name} er oprettet. Abonnér med en af disse adresser:",
    "As a file (tracker feed export): {filename}": "Som fil (tracker feed export): {filename}",
    "{scope}, overdue only": "{scope}, kun forsinkede",
    "The feed {name} is revoked; its address now answers 404.":
        "Kalenderen {name} er tilbagekaldt; dens adresse svarer nu 404.",
    "Exported to {directory}: {written} written, {unchanged} unchanged, {removed} removed.":
        "Eksporteret til {directory}: {written} skrevet, {unchanged} uændret, {removed} fjernet.",
    "TRACKER_BASE_URL={url!r} is not an absolute http(s) address. Set it to the public address of the web "
    "process, e.g. https://tracker.example.dk":
        "TRACKER_BASE_URL={url!r} er ikke en fuld http(s)-adresse. Sæt den til webprocessens offentlige adresse, "
        "fx https://tracker.example.dk",
    "The alarm must be a number and a unit, e.g. ?alarm=7d (days), 2w (weeks) or 12h (hours).":
        "Påmindelsen skal være et tal og en enhed, fx ?alarm=7d (dage), 2w (uger) eller 12h (timer).",
    "The calendar is unavailable for a moment; try again later.":
        "Kalenderen er utilgængelig et øjeblik; prøv igen senere.",
    "No party has the key {key!r}.": "Ingen part har nøglen {key!r}.",
    "No theme has the key {key!r}.": "Intet tema har nøglen {key!r}.",
    " See `tracker feed list`.": " Se `tracker feed list`.",
    "The feed name {name!r} cannot be used: use 1–64 lower-case letters, digits, '.', '_' or '-', starting with "
    "a letter or digit (it becomes part of a file name).":
        "Kalendernavnet {name!r} kan ikke bruges: brug 1–64 små bogstaver, cifre, '.', '_' eller '-', begyndende "
        "med et bogstav eller et ciffer (det bliver en del af et filnavn).",
    "The feed language must be one of {languages}.": "Kalenderens sprog skal være et af {languages}.",
    "The name {name!r} belongs to a revoked feed and is kept for the record. Choose another name.":
        "Navnet {name!r} tilhører en tilbagekaldt kalender og bevares af hensyn til sporbarheden. Vælg et andet "
        "navn.",
    "The feed {name!r} was already revoked.": "Kalenderen {name!r} var allerede tilbagekaldt.",
    " Known: {ids}.": " Kendte: {ids}.",
    "A feed named {name!r} exists already. Choose another name, or revoke it first with "
    "`tracker feed revoke {name}`.":
        "Der findes allerede en kalender med navnet {name!r}. Vælg et andet navn, eller tilbagekald den først "
        "med `tracker feed revoke {name}`.",
    "No feed is named {name!r}.": "Ingen kalender hedder {name!r}.",
    "The alarm {alarm!r} cannot be read: write a number and a unit, e.g. 7d (days), 2w (weeks) or 12h (hours).":
        "Påmindelsen {alarm!r} kan ikke læses: skriv et tal og en enhed, fx 7d (dage), 2w (uger) eller 12h "
        "(timer).",
    "Cancer Plan V": "Kræftplan V",
    "every deliverable in the implementation agreement": "alle leverancer i udmøntningsaftalen",
    "Deadlines and status for {scope}, kept current by the Cancer Plan V task force.":
        "Frister og status for {scope}, holdt ajour af taskforcen for Kræftplan V.",
    "{name} (overdue)": "{name} (forsinkede)",
    "overdue among {scope}": "de forsinkede blandt {scope}",
    "the deliverables {party} is responsible for": "de leverancer, {party} er ansvarlig for",
    "the deliverables of {selection}": "leverancerne for {selection}",
    "the deliverables under {theme}": "leverancerne under {theme}",
    "Cannot write the feeds to {directory}: {error}. Check that the folder exists or can be created, and that "
    "this user may write to it. Files already there are unchanged or complete.":
        "Kan ikke skrive kalenderne til {directory}: {error}. Kontrollér, at mappen findes eller kan oprettes, og "
        "at denne bruger må skrive i den. Filer, der allerede ligger der, er uændrede eller hele.",
    "Withdrawn: {title}": "Udgået: {title}",
    "Cancelled: {title}": "Aflyst: {title}",
    "✓ Done: {title}": "✓ Færdig: {title}",
    "⏰ Overdue: {title}": "⏰ Forsinket: {title}",
    "⚠ At risk: {title}": "⚠ I risiko: {title}",
    "Responsible: {party}": "Ansvarlig: {party}",
    "Also responsible: {parties}": "Medansvarlige: {parties}",
    "{due} (window from {start})": "{due} (vindue fra {start})",
    "Deadline: “{text}”, read as {due}": "Frist: “{text}”, læst som {due}",
    "{status}, overdue": "{status}, forsinket",
    "{status}, no longer in the register": "{status}, ikke længere i registret",
    "Status: {status}": "Status: {status}",
    "Source, {section}: “{quote}”": "Kilde, {section}: “{quote}”",
    "Latest note: {note}": "Seneste note: {note}",
    # Notifications (tracker notify …, the messages' text)
    "--to is before --from.": "--to ligger før --from.",
    "the week's overview": "ugens overblik",
    "{count} message.": "{count} besked.",
    "{count} messages.": "{count} beskeder.",
    "Warning: {problem}": "Advarsel: {problem}",
    "No messages from {start} to {end}.": "Ingen beskeder fra {start} til {end}.",
    "Fix them (contacts.example.toml shows the format) and run the command again.":
        "Ret dem (contacts.example.toml viser formatet), og kør kommandoen igen.",
    "{count} problem in the contacts file {filename}:": "{count} problem i kontaktfilen {filename}:",
    "{count} problems in the contacts file {filename}:": "{count} problemer i kontaktfilen {filename}:",
    "Cancer Plan V: {parts}": "Kræftplan V: {parts}",
    "What needs your attention in Cancer Plan V on {day}:": "Det kræver din opmærksomhed i Kræftplan V {day}:",
    "Nothing is overdue or due soon.": "Intet er forsinket eller har frist snart.",
    "due tomorrow ({due})": "frist i morgen ({due})",
    "due in {days} days ({due})": "frist om {days} dage ({due})",
    "The week in Cancer Plan V as of {day}: what is overdue, what falls due in the coming weeks, and what "
    "changed.":
        "Ugen i Kræftplan V pr. {day}: hvad der er forsinket, hvad der har frist de kommende uger, og hvad der "
        "er ændret.",
    "overdue by {days} day (due {due})": "forsinket {days} dag (frist {due})",
    "overdue by {days} days (due {due})": "forsinket {days} dage (frist {due})",
    "{count} deadline escalated": "{count} eskaleret frist",
    "{count} deadlines escalated": "{count} eskalerede frister",
    "{count} overdue deadline": "{count} forsinket frist",
    "{count} overdue deadlines": "{count} forsinkede frister",
    "{count} status to confirm": "{count} status skal bekræftes",
    "{count} statuses to confirm": "{count} statusser skal bekræftes",
    "{count} deadline coming up": "{count} frist nærmer sig",
    "{count} deadlines coming up": "{count} frister nærmer sig",
    "overdue by {days} days (due {due}) and escalated to the coordinators":
        "forsinket {days} dage (frist {due}) og eskaleret til koordinatorerne",
    "the due day ({due}) has passed and nobody has updated the status since: is it done? Please tell the "
    "coordinators how it stands ({reply_to}).":
        "fristen ({due}) er passeret, og ingen har opdateret status siden: er det gjort? Skriv venligst til "
        "koordinatorerne, hvordan det står ({reply_to}).",
    "the due day ({due}) has passed and nobody has updated the status since: is it done? Please tell the "
    "coordinators how it stands.":
        "fristen ({due}) er passeret, og ingen har opdateret status siden: er det gjort? Skriv venligst til "
        "koordinatorerne, hvordan det står.",
    "changed in the last week; now {status}": "ændret i den seneste uge; nu {status}",
    "re-planned in the last week: now due {due}, {status}": "omplanlagt i den seneste uge: frist nu {due}, {status}",
    "Deadline: “{text}”": "Frist: “{text}”",
    # E-mail and console channels
    'the scheme must be smtp://, smtp+starttls:// or smtps://':
        'skemaet skal være smtp://, smtp+starttls:// eller smtps://',
    'it names no server':
        'den nævner ingen server',
    'the port must be a number from 1 to 65535':
        'porten skal være et tal fra 1 til 65535',
    'it has a path or a fragment, which SMTP_URL does not use':
        'den har en sti eller et fragment, som SMTP_URL ikke bruger',
    'a user name needs a password, and a password a user name':
        'et brugernavn kræver en adgangskode, og en adgangskode et brugernavn',
    'the only setting it takes is starttls=1 or starttls=0, after smtp://':
        'den eneste indstilling, den tager, er starttls=1 eller starttls=0, efter smtp://',
    'SMTP_URL {url} cannot be read: {reason}. Write it as smtp+starttls://USER:PASSWORD@HOST:587 (STARTTLS), smtps://USER:PASSWORD@HOST:465 (TLS) or smtp://HOST:25 (plain), with special characters in the user name and password percent-encoded (@ as %40).':
        'SMTP_URL {url} kan ikke læses: {reason}. Skriv den som smtp+starttls://BRUGER:ADGANGSKODE@VÆRT:587 (STARTTLS), smtps://BRUGER:ADGANGSKODE@VÆRT:465 (TLS) eller smtp://VÆRT:25 (ukrypteret), med specialtegn i brugernavn og adgangskode procentkodet (@ som %40).',
    '“{address}” is not a single valid e-mail address.':
        '“{address}” er ikke én gyldig e-mailadresse.',
    '[Late] {subject}':
        '[Forsinket] {subject}',
    'Sent late: this message was due {day} at {time}.':
        'Sendt for sent: denne besked skulle være sendt {day} kl. {time}.',
    'The SMTP server {server} cannot be reached: {error}':
        'SMTP-serveren {server} kan ikke nås: {error}',
    'The SMTP server {server} did not accept the connection: {reply}':
        'SMTP-serveren {server} tog ikke imod forbindelsen: {reply}',
    'The SMTP server {server} did not accept the sender {address}: {reply}':
        'SMTP-serveren {server} tog ikke imod afsenderen {address}: {reply}',
    'The SMTP server {server} did not accept the recipient {address}: {reply}':
        'SMTP-serveren {server} tog ikke imod modtageren {address}: {reply}',
    'The SMTP server {server} did not accept the message: {reply}':
        'SMTP-serveren {server} tog ikke imod beskeden: {reply}',
    'The TLS certificate of the SMTP server {server} cannot be verified: {error}':
        'TLS-certifikatet for SMTP-serveren {server} kan ikke verificeres: {error}',
    'The SMTP server {server} did not accept the user name and password in SMTP_URL: {reply}':
        'SMTP-serveren {server} godtog ikke brugernavnet og adgangskoden i SMTP_URL: {reply}',
    'The SMTP server {server} cannot log tracker in now: {reply}':
        'SMTP-serveren {server} kan ikke logge tracker ind lige nu: {reply}',
    'The SMTP server {server} does not let tracker log in ({error}); check SMTP_URL: most servers take a password only over smtp+starttls:// or smtps://.':
        'SMTP-serveren {server} lader ikke tracker logge ind ({error}); tjek SMTP_URL: de fleste servere tager kun imod en adgangskode over smtp+starttls:// eller smtps://.',
    'The SMTP server {server} does not offer STARTTLS, which SMTP_URL asks for; nothing was sent unencrypted.':
        'SMTP-serveren {server} tilbyder ikke STARTTLS, som SMTP_URL beder om; intet blev sendt ukrypteret.',
    'The connection to the SMTP server {server} was lost before the message was handed over: {error}':
        'Forbindelsen til SMTP-serveren {server} blev afbrudt, før beskeden var afleveret: {error}',
    'The connection to the SMTP server {server} was lost after the message was handed over, before the server confirmed it; it may have been delivered: {error}':
        'Forbindelsen til SMTP-serveren {server} blev afbrudt, efter beskeden var afleveret, men før serveren bekræftede den; den kan være leveret: {error}',
    '{when} · {kind} to {recipient} by {channel} · key {key}':
        '{when} · {kind} til {recipient} via {channel} · nøgle {key}',
    'Subject: {subject}':
        'Emne: {subject}',
    'Cannot write the message to the console: {error}':
        'Kan ikke skrive beskeden til konsollen: {error}',
    # Slack channel
    'And {count} more:':
        'Og {count} mere:',
    "No Slack token is set. Put the app's bot token (xoxb-…) in SLACK_BOT_TOKEN.":
        'Der er ikke angivet noget Slack-token. Sæt appens bot-token (xoxb-…) i SLACK_BOT_TOKEN.',
    'SLACK_API_URL={url!r} is not an http(s) address. Leave it unset to use Slack (https://slack.com/api/), or point it at a stand-in, e.g. http://127.0.0.1:8099/api/.':
        'SLACK_API_URL={url!r} er ikke en http(s)-adresse. Lad den være tom for at bruge Slack (https://slack.com/api/), eller peg den på en stand-in, fx http://127.0.0.1:8099/api/.',
    "{recipient!r} is not a Slack recipient: write #channel-name, a channel id (C…, G… or D…) or a person's e-mail address.":
        '{recipient!r} er ikke en Slack-modtager: skriv #kanalnavn, et kanal-id (C…, G… eller D…) eller en persons e-mailadresse.',
    "Slack did not accept the bot token ({code}). Check SLACK_BOT_TOKEN: it must be the app's current bot token (xoxb-…), and the app must still be installed in the workspace.":
        'Slack godtog ikke bot-tokenet ({code}). Tjek SLACK_BOT_TOKEN: det skal være appens aktuelle bot-token (xoxb-…), og appen skal stadig være installeret i arbejdsområdet.',
    'The Slack app lacks the permission {scope} ({code}). Add the scope under OAuth & Permissions and reinstall the app.':
        'Slack-appen mangler tilladelsen {scope} ({code}). Tilføj den under OAuth & Permissions, og geninstallér appen.',
    'Slack has no channel {recipient} that the bot can see ({code}). Check the name in the contacts file; a private channel must invite the bot first.':
        'Slack har ingen kanal {recipient}, som botten kan se ({code}). Tjek navnet i kontaktfilen; en privat kanal skal først invitere botten.',
    "The bot is not a member of {recipient} ({code}). Invite it to the channel (/invite and the app's name) and the message can be sent.":
        'Botten er ikke medlem af {recipient} ({code}). Invitér den til kanalen (/invite og appens navn), så kan beskeden sendes.',
    'The channel {recipient} is archived ({code}). Unarchive it, or point the contacts file at another channel.':
        'Kanalen {recipient} er arkiveret ({code}). Genåbn den, eller peg kontaktfilen på en anden kanal.',
    'No Slack user has the e-mail address {recipient} ({code}). Correct the address in the contacts file, or reach the party through a channel.':
        'Ingen Slack-bruger har e-mailadressen {recipient} ({code}). Ret adressen i kontaktfilen, eller nå parten gennem en kanal.',
    'The Slack user with the e-mail address {recipient} is deactivated ({code}). Update the contacts file.':
        'Slack-brugeren med e-mailadressen {recipient} er deaktiveret ({code}). Opdatér kontaktfilen.',
    "{recipient} is a bot, and Slack does not let apps send direct messages to bots ({code}). Use a person's address or a channel.":
        '{recipient} er en bot, og Slack lader ikke apps sende direkte beskeder til botter ({code}). Brug en persons adresse eller en kanal.',
    'Slack rejected the message to {recipient} as malformed ({code}{detail}). This is a bug in tracker; please report it with this message.':
        'Slack afviste beskeden til {recipient} som fejlformet ({code}{detail}). Det er en fejl i tracker; indberet den venligst med denne meddelelse.',
    'The workspace does not allow the bot to post to {recipient} ({code}). Ask a Slack administrator to allow it, or use another channel.':
        'Arbejdsområdet tillader ikke botten at skrive i {recipient} ({code}). Bed en Slack-administrator om at tillade det, eller brug en anden kanal.',
    'Slack refused {method} for {recipient} with the error {code}. See https://docs.slack.dev/reference/methods/{method} for what it means.':
        'Slack afviste {method} for {recipient} med fejlen {code}. Se https://docs.slack.dev/reference/methods/{method} for, hvad den betyder.',
    'The address {url} answered {method} with HTTP {status}, which is not a Slack API response. Check SLACK_API_URL.':
        'Adressen {url} svarede på {method} med HTTP {status}, hvilket ikke er et svar fra Slacks API. Tjek SLACK_API_URL.',
    'Slack is rate limiting {method}; try again in {seconds} s.':
        'Slack begrænser antallet af kald til {method}; prøv igen om {seconds} s.',
    'Slack could not handle {method} for {recipient} just now ({reason}); nothing was posted. It is worth trying again later.':
        'Slack kunne ikke behandle {method} for {recipient} lige nu ({reason}); intet er sendt. Det er værd at prøve igen senere.',
    'Cannot reach Slack at {url} ({reason}); nothing was sent. Check the network and SLACK_API_URL.':
        'Kan ikke nå Slack på {url} ({reason}); intet er sendt. Tjek netværket og SLACK_API_URL.',
    'Slack did not answer {method} for {recipient} ({reason}); nothing was posted, and it is safe to try again.':
        'Slack svarede ikke på {method} for {recipient} ({reason}); intet er sendt, og det er sikkert at prøve igen.',
    'The answer from Slack to the message for {recipient} was lost ({reason}); it may have been posted. Check {recipient} before sending it again.':
        'Svaret fra Slack på beskeden til {recipient} gik tabt ({reason}); den kan være blevet sendt. Tjek {recipient}, før den sendes igen.',
    'no answer within {seconds} s':
        'intet svar inden for {seconds} s',
    # The outbox and the sweep
    " `tracker notify log --failed` lists what can be sent again.":
        " `tracker notify log --failed` viser, hvad der kan sendes igen.",
    "Cancer Plan V: {count} message could not be delivered": "Kræftplan V: {count} besked kunne ikke leveres",
    "Cancer Plan V: {count} messages could not be delivered": "Kræftplan V: {count} beskeder kunne ikke leveres",
    "Check with the recipient; if it did not arrive, send it again with `tracker notify retry {key}`.":
        "Spørg modtageren; er den ikke kommet frem, så send den igen med `tracker notify retry {key}`.",
    "Failed: {line}": "Fejlet: {line}",
    "Fix the cause, then send it again with `tracker notify retry {key}`.":
        "Ret årsagen, og send den så igen med `tracker notify retry {key}`.",
    "It was sent by e-mail to {addresses} instead.": "Den blev sendt med e-mail til {addresses} i stedet.",
    "No failed messages.": "Ingen fejlede beskeder.",
    "No message in the outbox has the key {key!r}.": "Ingen besked i udbakken har nøglen {key!r}.",
    'SMTP_URL is set but SMTP_FROM is not. Set SMTP_FROM to the address messages come from, e.g. '
    '"Kræftplan V <kraeftplan@example.dk>".':
        'SMTP_URL er sat, men SMTP_FROM er ikke. Sæt SMTP_FROM til den adresse, beskederne kommer fra, fx '
        '"Kræftplan V <kraeftplan@example.dk>".',
    "Sending failed unexpectedly: {error}": "Afsendelsen fejlede uventet: {error}",
    "Sweep: {messages} messages sent ({sent} notices, {late} late), {skipped} skipped, {retrying} to retry, "
    "{failed} failed, {unknown} unknown.":
        "Gennemløb: {messages} beskeder sendt ({sent} meddelelser, {late} for sent), {skipped} sprunget over, "
        "{retrying} prøves igen, {failed} fejlet, {unknown} uvisse.",
    "The message {key} is {states}: only failed and unknown messages can be sent again.":
        "Beskeden {key} er {states}: kun fejlede og uvisse beskeder kan sendes igen.",
    "The message {key} to {recipient} ({channel}) was being sent when tracker stopped, so it may have arrived. "
    "Check with the recipient; if it did not arrive, send it again with `tracker notify retry {key}`.":
        "Beskeden {key} til {recipient} ({channel}) var ved at blive sendt, da tracker stoppede, så den kan være "
        "kommet frem. Spørg modtageren; er den ikke kommet frem, så send den igen med "
        "`tracker notify retry {key}`.",
    "The message “{subject}” to {recipient} ({channel}) could not be delivered: {error}":
        "Beskeden “{subject}” til {recipient} ({channel}) kunne ikke leveres: {error}",
    "The message “{subject}” to {recipient} ({channel}) may not have arrived: {error}":
        "Beskeden “{subject}” til {recipient} ({channel}) er måske ikke kommet frem: {error}",
    "The outbox is empty.": "Udbakken er tom.",
    "Unknown (may have arrived): {line}": "Uvis (kan være kommet frem): {line}",
    "gave up after {count} attempts: {error}": "opgivet efter {count} forsøg: {error}",
    "message {key}": "besked {key}",
    "next attempt {at} (attempt {attempt})": "næste forsøg {at} (forsøg {attempt})",
    "tracker stopped while sending this message, so it may have arrived.":
        "tracker stoppede under afsendelsen af denne besked, så den kan være kommet frem.",
    "{count} notice will be sent again at the next sweep (`tracker notify run`).":
        "{count} meddelelse sendes igen ved næste gennemløb (`tracker notify run`).",
    "{count} notices will be sent again at the next sweep (`tracker notify run`).":
        "{count} meddelelser sendes igen ved næste gennemløb (`tracker notify run`).",
    "{count} notices are being sent by another process.": "{count} meddelelser sendes lige nu af en anden proces.",
    "{count} notices went by e-mail instead of Slack.": "{count} meddelelser gik med e-mail i stedet for Slack.",
    "{value!r} is not a date and time; write it as YYYY-MM-DDTHH:MM, e.g. 2026-06-30T09:00 (the plan's time "
    "zone unless it has an offset).":
        "{value!r} er ikke et tidspunkt; skriv det som ÅÅÅÅ-MM-DDTTT:MM, fx 2026-06-30T09:00 (i planens "
        "tidszone, medmindre det har en forskydning).",
    "no longer called for (done, cancelled, withdrawn, re-planned or re-routed)":
        "ikke længere relevant (færdig, aflyst, trukket tilbage, omplanlagt eller omdirigeret)",
    "a later step of the same series went out instead": "et senere trin i samme række blev sendt i stedet",
    "too late to be useful (a reminder after the due day, a digest after its week)":
        "for sent til at være nyttig (en påmindelse efter fristen, et overblik efter sin uge)",
    # The service
    "Another clock already runs against {url}: {holder}, its lease runs until {until}. Only one clock may run; "
    "stop that one, or if it is gone, start this one again after its lease ends.":
        "Der kører allerede et ur mod {url}: {holder}, og dets lejemål løber til {until}. Kun ét ur må køre; "
        "stop det, eller start dette igen, når lejemålet er udløbet, hvis det andet er væk.",
    "Serving on {url} (the dashboard is at {url}/; feeds: `tracker feed create`), sending what falls due every "
    "{interval:g} s. Stop with Ctrl-C.":
        "Kører på {url} (overblikket er på {url}/; kalendere: `tracker feed create`) og sender det, der forfalder, "
        "hvert {interval:g}. sekund. Stop med Ctrl-C.",
    "The clock runs against {url} every {interval:g} s. Stop it with Ctrl-C or SIGTERM.":
        "Uret kører mod {url} hvert {interval:g}. sekund. Stop det med Ctrl-C eller SIGTERM.",
    "The clock stopped.": "Uret er stoppet.",
    # tracker config check
    "PROBLEM": "PROBLEM",
    "Run `tracker validate` for every problem.": "Kør `tracker validate` for at se alle problemer.",
    "Slack answers: {who}": "Slack svarer: {who}",
    "Slack calls go here, not to slack.com": "Kald til Slack går hertil, ikke til slack.com",
    "default": "standard",
    "links in feeds and messages point here": "links i kalendere og beskeder peger hertil",
    "links point at http://127.0.0.1:8000: set it to the public address before anyone subscribes":
        "links peger på http://127.0.0.1:8000: sæt den til den offentlige adresse, før nogen abonnerer",
    "must be a number of at least {low}": "skal være et tal på mindst {low}",
    "no Slack: set it to send reminders to Slack": "ingen Slack: sæt den for at sende påmindelser til Slack",
    "no e-mail: set it (and SMTP_FROM) to send reminders by e-mail":
        "ingen e-mail: sæt den (og SMTP_FROM) for at sende påmindelser med e-mail",
    "not an absolute http(s) address without ? or #, e.g. https://tracker.example.dk":
        "ikke en absolut http(s)-adresse uden ? eller #, fx https://tracker.example.dk",
    "not asked (--offline)": "ikke spurgt (--offline)",
    "not set": "ikke sat",
    "ok": "ok",
    "reminders are printed, addressed to each party: set it to send them to people (contacts.example.toml shows "
    "the format)":
        "påmindelser udskrives, adresseret til hver part: sæt den for at sende dem til mennesker "
        "(contacts.example.toml viser formatet)",
    "the SMTP server answers: {server}": "SMTP-serveren svarer: {server}",
    "the database answers and has the current schema": "databasen svarer og har det aktuelle skema",
    "the default": "standardværdien",
    "the sender of every e-mail": "afsenderen af alle e-mails",
    "the workspace {team}, as {user}": "arbejdsområdet {team}, som {user}",
    "use da or en": "brug da eller en",
    "{count} deliverables, valid": "{count} leverancer, gyldigt",
    "{count} parties with contacts": "{count} parter med kontakter",
    "{kind} ({length} characters)": "{kind} ({length} tegn)",
    "{server} ({security}), answering {reply}": "{server} ({security}), svarer {reply}",
    # tracker report
    "--since is after --as-of.": "--since er efter --as-of.",
    "By responsible party": "Efter ansvarlig part",
    "By theme": "Efter tema",
    "Cancer Plan V: status as of {day}": "Kræftplan V: status pr. {day}",
    "Changed since {day}": "Ændret siden {day}",
    "Changes since {day}. Overdue means the due day has passed and it is neither done nor cancelled.":
        "Ændringer siden {day}. Forsinket betyder, at fristen er passeret, og at leverancen hverken er færdig "
        "eller aflyst.",
    "Deliverable": "Leverance",
    "No changes.": "Ingen ændringer.",
    "Nothing is overdue.": "Intet er forsinket.",
    "Overdue": "Forsinket",
    "Party": "Part",
    "Recommendation {number}: {topic}": "Anbefaling {number}: {topic}",
    "Responsible": "Ansvarlig",
    "Slippage": "Forskydning",
    "Wrote the report to {path}.": "Rapporten er skrevet til {path}.",
    "back in the register": "tilbage i registret",
    "note": "note",
    "overdue": "forsinket",
    "re-planned {old} → {new}": "omplanlagt {old} → {new}",
    "removed from the register": "fjernet fra registret",
    "status {old} → {new}": "status {old} → {new}",
    "{days:+d} days": "{days:+d} dage",
    "{title}, {party} (responsible or co-responsible)": "{title}, {party} (ansvarlig eller medansvarlig)",
    'All parties':
        'Alle parter',
    'All statuses':
        'Alle statusser',
    'All themes':
        'Alle temaer',
    'Back to the overview':
        'Tilbage til overblikket',
    'Calendars':
        'Kalendere',
    'Cancer Plan V: deadlines and deliverables':
        'Kræftplan V: frister og leverancer',
    'Change':
        'Ændring',
    'Deadlines':
        'Frister',
    'Deadlines by theme and status':
        'Frister efter tema og status',
    'Deadlines, earliest first':
        'Frister, tidligste først',
    'Did you mean:':
        'Mente du:',
    'Every deadline in the implementation agreement, as the task force follows it up. Overdue means the due day has passed and the deliverable is neither done nor cancelled.':
        'Alle frister i udmøntningsaftalen, sådan som taskforcen følger op på dem. Forsinket betyder, at fristen er passeret, og at leverancen hverken er færdig eller aflyst.',
    'Filter':
        'Filtrér',
    'First planned':
        'Oprindelig frist',
    'History':
        'Historik',
    'In all':
        'I alt',
    'No changes yet.':
        'Ingen ændringer endnu.',
    'No deadline matches the filter.':
        'Ingen frister passer til filteret.',
    'No longer in the register: kept here with its history.':
        'Ikke længere i registret: vist her med sin historik.',
    'No party has the key {key!r}. Choose one from the list, or all parties.':
        'Ingen part har nøglen {key!r}. Vælg en fra listen, eller alle parter.',
    'No theme has the key {key!r}. Choose one from the list, or all themes.':
        'Intet tema har nøglen {key!r}. Vælg et fra listen, eller alle temaer.',
    'Not found':
        'Ikke fundet',
    'Notes are not shown on the public dashboard.':
        'Noter vises ikke i det offentlige overblik.',
    'Occurrence':
        'Forekomst',
    'One row per deliverable, from its first deadline. The table below has the same deadlines as text.':
        'Én række pr. leverance, efter første frist. Tabellen nedenfor har de samme frister som tekst.',
    'Only overdue':
        'Kun forsinkede',
    'Overview':
        'Overblik',
    'Responsible party':
        'Ansvarlig part',
    'Show all':
        'Vis alle',
    'Showing {shown} of {count} deadlines.':
        'Viser {shown} af {count} frister.',
    'Shown {time}, Danish time. Read-only: coordinators update the status with the tracker command line.':
        'Vist {time}, dansk tid. Kun til visning: koordinatorerne opdaterer status med tracker-kommandolinjen.',
    'Skip to the content':
        'Gå til indholdet',
    'Source':
        'Kilde',
    'Status as of {day}':
        'Status pr. {day}',
    'Subscribe in your calendar app to follow these deadlines; the address stays the same and the calendar updates itself.':
        'Abonnér i din kalender-app for at følge disse frister; adressen er den samme, og kalenderen opdaterer sig selv.',
    'Subscribe: {name}':
        'Abonnér: {name}',
    'The dashboard is unavailable for a moment (the database does not answer); try again later.':
        'Overblikket er utilgængeligt et øjeblik (databasen svarer ikke); prøv igen senere.',
    "The dashboard needs the task force's user name and password (or token).":
        'Overblikket kræver taskforcens brugernavn og adgangskode (eller token).',
    'The secret in {variable} is shorter than {minimum} characters: use a longer one, e.g. from `python -c "import secrets; print(secrets.token_urlsafe())"`.':
        'Hemmeligheden i {variable} er kortere end {minimum} tegn: brug en længere, fx fra `python -c "import secrets; print(secrets.token_urlsafe())"`.',
    'There is no status {status!r}. Choose one of: {choices}.':
        'Der er ingen status {status!r}. Vælg en af: {choices}.',
    'Timeline {start}–{end}':
        'Tidslinje {start}–{end}',
    'When':
        'Hvornår',
    'Who':
        'Hvem',
    'Window':
        'Vindue',
    'added from the register':
        'tilføjet fra registret',
    'address to copy':
        'kopiér adressen',
    'as planned':
        'som planlagt',
    'deadline added':
        'frist tilføjet',
    'deadline back':
        'frist tilbage',
    'deadline removed':
        'frist fjernet',
    'due day':
        'frist',
    'evidence':
        'dokumentation',
    'first planned due day, where it was re-planned':
        'oprindelig frist, når den er omplanlagt',
    'first planned {day}':
        'oprindelig frist {day}',
    'overdue by {days} days':
        'forsinket {days} dage',
    'status {new}':
        'status {new}',
    'the dashboard and its calendars need the credential; notes are shown':
        'overblikket og dets kalendere kræver adgangsoplysningerne; noter vises',
    'the dashboard is public and shows no notes: set it to basic:USER:PASSWORD or token:SECRET to require them':
        'overblikket er offentligt og viser ingen noter: sæt den til basic:BRUGER:ADGANGSKODE eller token:HEMMELIGHED for at kræve adgang',
    'today':
        'i dag',
    'window of a fuzzy deadline (e.g. a quarter)':
        'vindue for en upræcis frist (fx et kvartal)',
    '{count} deadline is overdue.':
        '{count} frist er forsinket.',
    '{count} deadlines are overdue.':
        '{count} frister er forsinkede.',
    '{field} changed in the register':
        '{field} ændret i registret',
    '{file}, section {section}':
        '{file}, afsnit {section}',
    '{variable} is token: with no secret after it. Set it to token:SECRET.':
        '{variable} er token: uden en hemmelighed efter. Sæt den til token:HEMMELIGHED.',
    '{variable} must be basic:USER:PASSWORD or token:SECRET; the basic form needs a user name and a password after it, each not empty.':
        '{variable} skal være basic:BRUGER:ADGANGSKODE eller token:HEMMELIGHED; basic-formen skal have et brugernavn og en adgangskode efter, ingen af dem tomme.',
    '{variable} must start with basic: or token: (e.g. basic:taskforce:PASSWORD); unset it for a public dashboard without notes.':
        '{variable} skal begynde med basic: eller token: (fx basic:taskforce:ADGANGSKODE); fjern den for et offentligt overblik uden noter.',
    'By responsible party and theme':
        'Efter ansvarlig part og tema',
    'Changes since the last report (as of {day}).':
        'Ændringer siden sidste rapport (pr. {day}).',
    'Cannot write the report to {path}: {error}. Check that the folder exists and that you may write to it; nothing was written.':
        'Kan ikke skrive rapporten til {path}: {error}. Tjek, at mappen findes, og at du må skrive i den; intet er skrevet.',
    "overdue by {days} day": "forsinket {days} dag",
    "{days:+d} day": "{days:+d} dag",
    "Overdue or not": "Forsinket eller ej",
    "Not overdue": "Ikke forsinket",
    "due after the timeline's end": "frist efter tidslinjens slutning",
    "A deadline that parties share counts for each of them, as in their calendars, so the rows add up to more "
    "than the total.":
        "En frist, som flere parter deler, tæller med hos hver af dem ligesom i deres kalendere, så rækkerne "
        "tilsammen giver mere end det samlede antal.",
    "Deadlines by responsible party and status, shared deadlines included":
        "Frister efter ansvarlig part og status, delte frister medregnet",
    "{count} deadline in all": "{count} frist i alt",
    "{count} deadlines in all": "{count} frister i alt",
    ", for {count} deliverable.": ", fordelt på {count} leverance.",
    ", for {count} deliverables.": ", fordelt på {count} leverancer.",
    "overdue=1 shows only overdue deadlines and overdue=0 only those that are not; leave it out to show all.":
        "overdue=1 viser kun forsinkede frister og overdue=0 kun dem, der ikke er forsinkede; udelad den for at "
        "se alle.",
    "product": "produkt",
    "milestone": "milepæl",
    "start": "igangsættelse",
    "report": "rapport",
    "decision": "beslutning",
    "Changes as in the report already written as of {day}.":
        "Ændringer som i rapporten, der allerede er skrevet pr. {day}.",
    "The tracker's records begin on {day}: until then, each deliverable is shown as the register first stated "
    "it.":
        "Trackerens optegnelser begynder {day}: indtil da vises hver leverance, som registret først angav den.",
    # Reliability: what a sync refuses, what a report says, what reached nobody
    " and {count} more": " og {count} flere",
    "The register would archive {count} of the plan's {active} deliverables at once ({ids}); at most {limit} are "
    "archived without being asked. A register cut off or half saved looks like this: check that the file is "
    "whole, and nothing was changed. If they really are gone, run `tracker sync --allow-removals`.":
        "Registret ville arkivere {count} af planens {active} leverancer på én gang ({ids}); højst {limit} "
        "arkiveres uden at blive bedt om det. Sådan ser et register ud, der er afskåret eller halvt gemt: tjek, at "
        "filen er hel; intet er ændret. Er de virkelig væk, så kør `tracker sync --allow-removals`.",
    "The deliverable {id} would reuse the id that {other} had before it was renamed; calendars and messages know "
    "that id as {other}. Give the new deliverable another id.":
        "Leverancen {id} ville genbruge det id, {other} havde, før den blev omdøbt; kalendere og beskeder kender "
        "det id som {other}. Giv den nye leverance et andet id.",
    "{gone} left the register and {added} came in with nearly the same quote: renamed? Then add renamed_from = "
    "\"{gone}\" to {added} and sync again, so it keeps its status and history.":
        "{gone} forsvandt fra registret, og {added} kom til med næsten samme citat: omdøbt? Så tilføj "
        "renamed_from = \"{gone}\" til {added} og indlæs igen, så den beholder sin status og historik.",
    "… and {count} more problem ({kinds}).": "… og {count} problem mere ({kinds}).",
    "… and {count} more problems ({kinds}).": "… og {count} problemer mere ({kinds}).",
    "Cancer Plan V: {count} message may not have arrived": "Kræftplan V: {count} besked er måske ikke nået frem",
    "Cancer Plan V: {count} messages may not have arrived": "Kræftplan V: {count} beskeder er måske ikke nået frem",
    "Cancer Plan V: {failed} not delivered, {uncertain} may not have arrived":
        "Kræftplan V: {failed} ikke leveret, {uncertain} måske ikke nået frem",
    "It was about:": "Den handlede om:",
    "It was the task force's weekly overview.": "Det var taskforcens ugentlige overblik.",
    "tracker failed unexpectedly ({error}); a change in progress was not saved. This is a bug: run the command "
    "again with --debug for the details, and report them.":
        "tracker fejlede uventet ({error}); en ændring undervejs blev ikke gemt. Det er en fejl i tracker: kør "
        "kommandoen igen med --debug for detaljerne, og indrapportér dem.",
    "Reached nobody, and the coordinators could not be told: {line}":
        "Nåede ingen, og koordinatorerne kunne ikke få besked: {line}",
    "renamed from {old}": "omdøbt fra {old}",
    "{id} says renamed_from = \"{old}\", but that deliverable is {current} now, and the register still has "
    "{current}. Remove renamed_from from {id}, or {current} from the register.":
        "{id} har renamed_from = \"{old}\", men den leverance hedder nu {current}, og registret har stadig "
        "{current}. Fjern renamed_from fra {id}, eller {current} fra registret.",
    "{id} says renamed_from = \"{old}\", but the database already has another deliverable {id}{archived}, with a "
    "plan and history of its own; renaming would overwrite it. Give the renamed deliverable another id.":
        "{id} har renamed_from = \"{old}\", men databasen har allerede en anden leverance {id}{archived} med "
        "egen plan og historik; en omdøbning ville overskrive den. Giv den omdøbte leverance et andet id.",
    " (archived)": " (arkiveret)",
    "The deliverable {id!r} was renamed: it is {current} now.": "Leverancen {id!r} er omdøbt: den hedder nu {current}.",
    # Danish input and forgiving keys
    "{value!r} is not a day; write it as 2026-12-31, 31/12/2026, 31.12.2026 or 31-12-2026.":
        "{value!r} er ikke en dag; skriv den som 31/12/2026, 31.12.2026, 31-12-2026 eller 2026-12-31.",
    "{value!r} is not a status. Write one of: {forms}.": "{value!r} er ikke en status. Skriv en af: {forms}.",
    "Those of its kind are: {keys}.": "Dem af samme slags er: {keys}.",
    "`tracker parties` lists them all.": "`tracker parties` viser dem alle.",
    "`tracker themes` lists them all.": "`tracker themes` viser dem alle.",
    "it is empty; say why in a few words": "den er tom; skriv kort hvorfor",
    "{label} would be due {due}, more than a year ago.": "{label} ville få frist {due}, mere end et år siden.",
    "{label} would be due {due}, before its window opens ({start}).":
        "{label} ville få frist {due}, før dens vindue åbner ({start}).",
    "Nothing was changed. If this is what you mean, run it again with --yes.":
        "Intet er ændret. Er det det, du mener, så kør kommandoen igen med --yes.",
    "Re-plan all the same?": "Omplanlæg alligevel?",
    "Key": "Nøgle",
    "Name (en)": "Navn (en)",
    "No.": "Nr.",
    "Topic": "Emne",
    "Topic (en)": "Emne (en)",
    "of them {count} overdue": "heraf {count} forsinket",
    "no longer read: the plan's time zone is Europe/Copenhagen, as the register states. Remove it.":
        "læses ikke længere: planens tidszone er Europe/Copenhagen, som registret angiver. Fjern den.",
    "party details changed in the register ({field})": "partens oplysninger ændret i registret ({field})",
    "party {key} added to the register": "parten {key} tilføjet i registret",
    "party {key} back in the register": "parten {key} er tilbage i registret",
    "party {key} removed from the register": "parten {key} fjernet fra registret",
    "theme details changed in the register ({field})": "temaets oplysninger ændret i registret ({field})",
    "theme {key} added to the register": "temaet {key} tilføjet i registret",
    "theme {key} back in the register": "temaet {key} er tilbage i registret",
    "theme {key} removed from the register": "temaet {key} fjernet fra registret",
}
