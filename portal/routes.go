package portal

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Routes registers every portal route. All of them answer with the
// portal's headers (strict CSP, no-store); every unsafe method passes
// cross-origin protection first; everything but signing in needs a live
// session of an enabled account.
func (p *Portal) Routes(r chi.Router) {
	r.Handle("/static/*", http.StripPrefix("/static/", staticFiles()))
	r.Group(func(r chi.Router) {
		r.Use(portalHeaders, p.crossOrigin, p.sessions.LoadAndSave)
		r.Get("/sign-in", p.handle(p.signInPage))
		r.Post("/sign-in", p.handle(p.signIn))
		r.Get("/sign-in/code", p.handle(p.codePage))
		r.Post("/sign-in/code", p.handle(p.signInCode))
		r.Get("/sign-in/qr.png", p.handle(p.enrolQR))
		r.Post("/lang", p.handle(p.setLang))
		if p.cfg.Demo {
			r.Get("/demo/staff", p.handle(p.demoCodes))
		}
		r.Group(func(r chi.Router) {
			r.Use(p.requireUser)
			r.Post("/sign-out", p.handle(p.signOut))
			r.Get("/", p.handle(p.home))
			r.Get("/desk", p.handle(p.deskPage))
			r.Get("/cases/{id}", p.handle(p.caseOpen))
			r.Post("/cases/{id}/open", p.handle(p.caseOpenWithReason))
			r.Post("/cases/{id}/claim", p.handle(p.caseClaim))
			r.Post("/cases/{id}/assign", p.handle(p.caseAssign))
			r.Post("/cases/{id}/incident-type", p.handle(p.caseClassify))
			r.Post("/cases/{id}/notes", p.handle(p.noteAdd))
			r.Post("/cases/{id}/follow-ups", p.handle(p.followUpAdd))
			r.Post("/cases/{id}/referrals", p.handle(p.referralCreate))
			r.Post("/cases/{id}/messages", p.handle(p.messageHer))
			r.Post("/referrals/{id}/revoke", p.handle(p.referralRevoke))
			r.Post("/referrals/{id}/chase", p.handle(p.referralChase))
			r.Post("/follow-ups/{id}/done", p.handle(p.followUpDone))
			r.Post("/follow-ups/{id}/reschedule", p.handle(p.followUpReschedule))
			// Providers: their organisation's referrals (DecideReferral).
			r.Get("/inbox", p.handle(p.inboxPage))
			r.Get("/referrals/{id}", p.handle(p.referralPacket))
			r.Post("/referrals/{id}/phone", p.handle(p.referralRevealPhone))
			r.Post("/referrals/{id}/acknowledge", p.handle(p.referralAcknowledge))
			r.Post("/referrals/{id}/accept", p.handle(p.referralAccept))
			r.Post("/referrals/{id}/decline", p.handle(p.referralDecline))
			r.Post("/referrals/{id}/served", p.handle(p.referralServed))
			r.Get("/admin/users", p.handle(p.usersPage))
			r.Post("/admin/users", p.handle(p.userAdd))
			r.Post("/admin/users/{name}/disable", p.handle(p.userDisable))
			r.Post("/admin/users/{name}/reset-totp", p.handle(p.userResetTOTP))
			r.Get("/admin/directory", p.handle(p.directoryPage))
			r.Get("/admin/directory/export", p.handle(p.directoryExport))
			r.Post("/admin/directory", p.handle(p.directoryImport))
			r.Get("/admin/oncall", p.handle(p.onCallPage))
			r.Post("/admin/oncall", p.handle(p.onCallAdd))
			r.Post("/admin/oncall/{id}/remove", p.handle(p.onCallRemove))
			r.Get("/board", p.handle(p.boardPage))
			r.Get("/queue", p.handle(p.queueHealthPage))
			r.Get("/cases/{id}/audit", p.handle(p.caseAudit))
			r.Get("/cases/{id}/caller", p.handle(p.caseCaller))
			r.Post("/cases/{id}/caller/block", p.handle(p.callerBlock))
			r.Post("/cases/{id}/caller/unblock", p.handle(p.callerUnblock))
		})
	})
}

// crossOrigin refuses unsafe requests a browser marks as coming from
// another site (Sec-Fetch-Site, or an Origin that is not ours).
func (p *Portal) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serveError(w, r, errForbidden)
	}))
	return cop.Handler(next)
}
