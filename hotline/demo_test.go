package hotline

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// demoSend posts the simulated phone's form with the given browser headers,
// without following the redirect.
func (e *env) demoSend(form url.Values, header http.Header) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/demo/phone/send", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// TestDemoPhoneRefusesCrossOriginPosts: a page on another site cannot make
// the browser of someone running the demo text the hotline; the page's own
// form still can.
func TestDemoPhoneRefusesCrossOriginPosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := url.Values{"from": {survivorPhone}, "body": {"Hola"}}
	for name, header := range map[string]http.Header{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": {"cross-site"}},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": {"same-site"}},
		"another Origin":            {"Origin": {"https://elsewhere.example"}},
	} {
		if res := e.demoSend(form, header); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, res.StatusCode)
		}
	}
	if thread := e.sim.Thread(survivorPhone); len(thread) != 0 {
		t.Fatalf("a refused post reached the hotline: %+v", thread)
	}

	res := e.demoSend(form, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.srv.URL}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/demo/phone" {
		t.Fatalf("same-origin post: status %d, location %q", res.StatusCode, res.Header.Get("Location"))
	}
	e.sim.Phone(survivorPhone).Expect("105")
}

// TestDemoPhoneNamesEachNumber: each thread on the simulated phone says
// whose number it is, from the directory (service name) and the roster
// (role, fallback duty), and the page lists every number the demo knows.
func TestDemoPhoneNamesEachNumber(t *testing.T) {
	t.Parallel()
	const fallback = "+51944000009"
	e := newEnv(t, false, func(s *envSetup) { s.fallback = []string{fallback} })
	for _, from := range []string{survivorPhone, healthPhone, counsellor, fallback} {
		e.demoSend(url.Values{"from": {from}, "body": {"Hola"}}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	}
	res, err := http.Get(e.srv.URL + "/demo/phone")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := html.UnescapeString(string(b))
	for _, want := range []string{
		"<h2>sobreviviente · " + survivorPhone + "</h2>",
		"<h2>H · " + healthPhone + "</h2>",
		"<h2>consejera de turno · " + counsellor + "</h2>",
		"<h2>teléfono de guardia de respaldo · " + fallback + "</h2>",
		"<li>" + policePhone + ": P</li>",
		"<li>" + fallback + ": teléfono de guardia de respaldo</li>",
		`<option value="` + counsellor + `">consejera de turno</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the simulated phone page lacks %q:\n%s", want, page)
		}
	}
}
