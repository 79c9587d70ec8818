package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// DemoPassword is the password of the demo's staff accounts. The demo runs
// on its own database (it refuses one with a real directory), so a known
// password there guards nothing real.
const DemoPassword = "amparo-demo-2026"

// demoPrefix marks demo accounts; only their codes are ever shown.
const demoPrefix = "demo-"

// demoStaff are the accounts `amparo demo` creates. The provider belongs to
// the demo directory's health organisation, whose posts take the demo's
// health referrals, so its inbox fills as one texts the hotline.
var demoStaff = []NewUser{
	{Username: demoPrefix + "caseworker", Role: RoleCaseworker},
	{Username: demoPrefix + "supervisor", Role: RoleSupervisor},
	{Username: demoPrefix + "provider", Role: RoleProvider, OrgKey: DemoProviderOrg},
	{Username: demoPrefix + "admin", Role: RoleAdmin},
}

// DemoProviderOrg is the organisation of the demo's provider account (in
// referral/demo/directory.json).
const DemoProviderOrg = "demo-minsa-trujillo"

// EnsureDemoStaff creates the demo's staff accounts that do not exist yet
// and returns all of them.
func (p *Accounts) EnsureDemoStaff(ctx context.Context) ([]User, error) {
	var out []User
	for _, in := range demoStaff {
		in.Password = DemoPassword
		u, _, err := p.CreateUser(ctx, in)
		if errors.Is(err, ErrUserExists) {
			u, err = p.userByName(ctx, p.pool, in.Username)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

type demoCode struct {
	Username, Role, Code string
}

// demoCodes shows the demo accounts' current TOTP codes, so a visitor can
// sign in without an authenticator app. Mounted only in demo mode.
func (p *Portal) demoCodes(w http.ResponseWriter, r *http.Request) error {
	users, err := p.ListUsers(r.Context())
	if err != nil {
		return err
	}
	var codes []demoCode
	for _, u := range users {
		if !strings.HasPrefix(u.Username, demoPrefix) {
			continue
		}
		c, err := p.CurrentCode(r.Context(), u.Username, p.clk.Now())
		if err != nil {
			return err
		}
		codes = append(codes, demoCode{Username: u.Username, Role: string(u.Role), Code: c})
	}
	return p.render(w, r, "demo_codes", struct {
		Codes    []demoCode
		Password string
	}{codes, DemoPassword})
}
