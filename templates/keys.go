package templates

// Catalogue keys. A test checks that this list and the catalogues agree, so
// a key used in code always exists in both languages.

// Triage replies: answers to a survivor's own messages. "Retry" keys are the
// short re-prompts for an answer that was not understood; each repeats the
// options so a survivor is never left without a way on.
const (
	// KeyWelcome is the first reply to everyone, whether or not the number
	// is known: it names 105 and Linea 100, asks about danger now, invites a
	// code word from someone who wrote before, and names the other language.
	KeyWelcome             = "sms.welcome"
	KeyDangerRetry         = "sms.danger.retry"   // also answers a code word that did not match
	KeyDangerAlerted       = "sms.danger.alerted" // after "in danger": on-call alerted, continue by text?
	KeyContinueRetry       = "sms.continue.retry"
	KeyDangerPaused        = "sms.danger.paused"
	KeyConsent             = "sms.consent" // who sees the case, limits of confidentiality
	KeyConsentRetry        = "sms.consent.retry"
	KeyConsentDeclined     = "sms.consent.declined"
	KeyNeeds               = "sms.needs"
	KeyNeedsRetry          = "sms.needs.retry"
	KeyWhen                = "sms.when"
	KeyWhenRetry           = "sms.when.retry"
	KeyHealthPEP           = "sms.health.pep"      // {deadline}: the 72 h window is still open
	KeyHealthEC            = "sms.health.ec"       // {deadline}: only the 120 h window is still open
	KeyCommunity           = "sms.community"       // {options}: CommunityOptions
	KeyCommunityRetry      = "sms.community.retry" // {options}: CommunityOptions as a list
	KeyCommunityOther      = "sms.community.other" // the last option: none of the directory's communities
	KeyCommunityOr         = "sms.community.or"    // joins the last two options of a list
	KeyReferrals           = "sms.referrals"       // {options}: the needs chosen, numbered from 1 as shown
	KeyReferralsRetry      = "sms.referrals.retry" // {options}
	KeyContact             = "sms.contact"
	KeyContactRetry        = "sms.contact.retry"
	KeyHours               = "sms.hours"
	KeyHoursRetry          = "sms.hours.retry"
	KeyCodeWord            = "sms.codeword"
	KeyCodeWordRetry       = "sms.codeword.retry"
	KeyCodeWordWhy         = "sms.codeword.why" // she would rather not choose one: why it matters
	KeySummary             = "sms.summary"      // {ref}: the case reference, known after the case is stored
	KeyDone                = "sms.done"
	KeyHelp                = "sms.help"
	KeyStop                = "sms.stop"            // SALIR: what stops, what still answers her, how to come back
	KeyStopped             = "sms.stopped"         // any message after SALIR: emergency numbers, how to start again
	KeyRestartStopped      = "sms.restart.stopped" // INICIO before her code word matched: what lifts a SALIR, the same words to everyone
	KeyResumed             = "sms.resumed"         // her code word lifted her SALIR
	KeyEraseConfirm        = "sms.erase.confirm"   // after her code word matched
	KeyEraseCancelled      = "sms.erase.cancelled"
	KeyEraseDone           = "sms.erase.done"
	KeyEraseDoneNoCodeWord = "sms.erase.done.nocodeword" // BORRAR without a code word: true of what was and was not erased
	KeyEraseCodeWord       = "sms.erase.codeword"        // BORRAR before her code word matched: the same words to everyone
	KeyEraseCodeWordRetry  = "sms.erase.codeword.retry"
	KeyEraseLocked         = "sms.erase.locked" // too many wrong code words: only what no code word protects can go
	KeyReturnMenu          = "sms.return.menu"
	KeyReturnMenuRetry     = "sms.return.menu.retry"
	KeyReturnCallback      = "sms.return.callback"
	KeyGoodbye             = "sms.goodbye"
	// KeyEmergency answers a sender the hotline cannot route (a number that
	// is not a phone number): the numbers, and nothing else.
	KeyEmergency = "sms.emergency"

	// Danger said in her own words, at any step, and the end of a
	// conversation that flagged danger: she is told an urgent case is open
	// and a counsellor will write to her, never that there is no case.
	KeyDangerHeard       = "sms.danger.heard"
	KeyDangerHeardAgreed = "sms.danger.heard.agreed" // she had already said how she may be contacted
	KeyDangerOpen        = "sms.danger.open"
)

// Messages the system starts. They must stay discreet: no word about
// violence, the service's purpose or the survivor.
const (
	KeyProviderNotice       = "sms.provider.notice"    // {ref} {code} {portal}
	KeyProviderWithdrawn    = "sms.provider.withdrawn" // {ref} {code}
	KeyProviderPassedOn     = "sms.provider.passed_on" // {ref} {code}: escalated to another service
	KeyProviderAcknowledged = "sms.provider.acknowledged"
	KeyProviderDeclined     = "sms.provider.declined"
	KeyProviderUnknownCode  = "sms.provider.unknown_code"
	KeyProviderBadFormat    = "sms.provider.bad_format"
	KeyProviderCodesLocked  = "sms.provider.codes_locked"

	// Staff alerts, each with {ref}; roster.AlertKind.CatalogueKey maps
	// each kind to its key.
	KeyStaffDangerNow           = "sms.staff.danger_now"
	KeyStaffEscalated           = "sms.staff.escalated"
	KeyStaffServeDeadlineNear   = "sms.staff.serve_deadline_near"
	KeyStaffServeDeadlineMissed = "sms.staff.serve_deadline_missed"
	KeyStaffNoProvider          = "sms.staff.no_provider"
	KeyStaffDeliveryFailed      = "sms.staff.delivery_failed"
	KeyStaffCallback            = "sms.staff.callback"
	KeyStaffCodesLocked         = "sms.staff.codes_locked"
	// KeyStaffDangerNow also takes {code}: the reply that says someone
	// has taken the case before it escalates.
	KeyStaffDangerUnanswered = "sms.staff.danger_unanswered"
	KeyStaffDangerTaken      = "sms.staff.danger_taken" // {ref}: the answer to that reply
	KeyStaffMore             = "sms.staff.more"         // {n}: alerts on the same case folded into one text

	// Told to her when a provider takes her request, within her contact
	// profile: {place} and {deadline} for health, {need} otherwise.
	KeySurvivorWhere     = "sms.survivor.where"
	KeySurvivorWhereOpen = "sms.survivor.where.open" // health with no clinical window open
	KeySurvivorTaken     = "sms.survivor.taken"

	// Texts a caseworker may send her from the portal: nothing a reader of
	// her phone could learn from, and each invites a reply, which the hotline
	// answers only after her code word.
	KeySurvivorPortalHello    = "sms.survivor.portal.hello"
	KeySurvivorPortalCallback = "sms.survivor.portal.callback"
	KeySurvivorPortalCheckIn  = "sms.survivor.portal.checkin"

	KeyFollowUpCheckIn  = "sms.followup.checkin"
	KeyFollowUpReminder = "sms.followup.reminder" // {when}
)

// Voice prompts for the IVR's <Say> and <Gather>. KeyVoiceLang is meant to
// be said once in each language, each in its own voice.
const (
	KeyVoiceLang       = "voice.lang"
	KeyVoiceDanger     = "voice.danger"
	KeyVoiceConnecting = "voice.connecting"
	KeyVoiceEmergency  = "voice.emergency"
	KeyVoiceCallback   = "voice.callback"
	KeyVoiceSMSOffer   = "voice.sms_offer"
	KeyVoiceRetry      = "voice.retry"
	KeyVoiceGoodbye    = "voice.goodbye"
	// KeyVoiceWhisper is said to the counsellor who picks up, before the
	// caller is connected: her phone shows the hotline's number, not the
	// caller's, so this is how she knows what the call is.
	KeyVoiceWhisper = "voice.whisper"
)

// Fragments that other texts are assembled from.
const (
	KeyNeedHealth       = "need.health"
	KeyNeedPolice       = "need.police"
	KeyNeedShelter      = "need.shelter"
	KeyNeedLegal        = "need.legal"
	KeyNeedPsychosocial = "need.psychosocial"
	// KeyFormatDeadline is a Go time layout, so dates read naturally in each
	// language.
	KeyFormatDeadline = "format.deadline"
)

// SurvivorPortalKeys are the texts the portal offers, in the order shown.
var SurvivorPortalKeys = []string{KeySurvivorPortalHello, KeySurvivorPortalCallback, KeySurvivorPortalCheckIn}
