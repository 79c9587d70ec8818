package portal

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
)

// auditShown bounds the rows the trail page lists, newest first.
const auditShown = 500

type auditData struct {
	CaseID    string
	Reference string
	Rows      []audit.Row
	Names     map[string]string // staff id → username
}

// caseAudit shows a supervisor the audit rows about a case: who opened,
// assigned, referred or blocked, and when; never content. Reading the
// trail is itself audited, in the same transaction.
func (p *Portal) caseAudit(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActViewAudit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := auditData{CaseID: sc.ID.String(), Names: map[string]string{}}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		if d.Reference, err = p.cases.Reference(ctx, tx, sc.ID); err != nil {
			return err
		}
		if d.Rows, err = audit.ForCase(ctx, tx, d.CaseID, auditShown); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: u.ID.String(), Action: string(ActViewAudit), CaseID: d.CaseID})
	})
	if err != nil {
		return err
	}
	users, err := p.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, s := range users {
		d.Names[s.ID.String()] = s.Username
	}
	return p.render(w, r, "case_audit", d)
}
