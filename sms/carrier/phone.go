package carrier

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Phone is a simulated handset on the carrier.
type Phone struct {
	c      *Carrier
	Number string
}

// Phone returns the handset with the given E.164 number.
func (c *Carrier) Phone(number string) *Phone { return &Phone{c: c, Number: number} }

// Text sends body to the hotline through its signed webhook under a fresh
// MessageSid and returns the TwiML replies, which are also recorded as
// messages to this phone.
func (p *Phone) Text(body string) ([]string, error) {
	return p.Deliver(NewSID("SM"), body)
}

// Deliver is Text with a chosen MessageSid, for replaying a webhook.
func (p *Phone) Deliver(sid, body string) ([]string, error) {
	p.c.record(p.Number, Message{SID: sid, Dir: FromPhone, Body: body, Via: "sms", At: time.Now()})
	params := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {p.c.cfg.AccountSID},
		"From": {p.Number}, "To": {p.c.cfg.HotlineNumber}, "Body": {body},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
	}
	resp, err := p.c.post(p.c.cfg.PublicURL+"/twilio/sms", params)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("carrier: webhook answered %d", resp.StatusCode)
	}
	replies, err := ParseTwiML(raw)
	if err != nil {
		return nil, err
	}
	for _, r := range replies {
		p.c.record(p.Number, Message{SID: NewSID("SM"), Dir: ToPhone, Body: r, Via: "twiml", Status: "delivered", At: time.Now()})
	}
	return replies, nil
}

// ParseTwiML returns the texts of the <Message> verbs of a messaging response.
func ParseTwiML(raw []byte) ([]string, error) {
	var doc struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []struct {
			Text string `xml:",chardata"`
			Body string `xml:"Body"`
		} `xml:"Message"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("carrier: not TwiML: %w", err)
	}
	out := make([]string, 0, len(doc.Messages))
	for _, m := range doc.Messages {
		if t := strings.TrimSpace(m.Body); t != "" {
			out = append(out, t)
		} else {
			out = append(out, strings.TrimSpace(m.Text))
		}
	}
	return out, nil
}

// Send is Text for tests: a webhook failure fails the test.
func (p *Phone) Send(body string) *Phone {
	p.c.cfg.T.Helper()
	if _, err := p.Text(body); err != nil {
		p.c.cfg.T.Fatalf("%s: send: %v", p.Number, err)
	}
	return p
}

// Next waits for the next unread message to this phone.
func (p *Phone) Next() (Message, bool) {
	deadline := time.Now().Add(p.c.cfg.Wait)
	// sync.Cond has no timed wait: a ticker wakes the waiter to check the deadline.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.c.mu.Lock()
				p.c.changed.Broadcast()
				p.c.mu.Unlock()
			}
		}
	}()
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	for {
		thread := p.c.threads[p.Number]
		for i := p.c.unread[p.Number]; i < len(thread); i++ {
			if thread[i].Dir == ToPhone {
				p.c.unread[p.Number] = i + 1
				return thread[i], true
			}
		}
		p.c.unread[p.Number] = len(thread)
		if time.Now().After(deadline) {
			return Message{}, false
		}
		p.c.changed.Wait()
	}
}

// Expect asserts that the next message to this phone contains every one of
// parts.
func (p *Phone) Expect(parts ...string) *Phone {
	p.c.cfg.T.Helper()
	p.ExpectSMS(parts...)
	return p
}

// ExpectSMS is Expect returning the message, to read or answer it.
func (p *Phone) ExpectSMS(parts ...string) *Received {
	p.c.cfg.T.Helper()
	m, ok := p.Next()
	if !ok {
		p.c.cfg.T.Fatalf("%s: expected a message containing %q, got none", p.Number, parts)
	}
	for _, part := range parts {
		if !strings.Contains(m.Body, part) {
			p.c.cfg.T.Fatalf("%s: expected a message containing %q, got %q", p.Number, part, m.Body)
		}
	}
	return &Received{Message: m, Phone: p}
}

// ExpectNothing asserts that no message to this phone is unread.
func (p *Phone) ExpectNothing() {
	p.c.cfg.T.Helper()
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	thread := p.c.threads[p.Number]
	for i := p.c.unread[p.Number]; i < len(thread); i++ {
		if thread[i].Dir == ToPhone {
			p.c.cfg.T.Errorf("%s: unexpected message %q", p.Number, thread[i].Body)
		}
	}
	p.c.unread[p.Number] = len(thread)
}

// AssertQuiet fails the test for any unread message on any phone.
func (c *Carrier) AssertQuiet() {
	c.cfg.T.Helper()
	for _, n := range c.Numbers() {
		c.Phone(n).ExpectNothing()
	}
}

// Received is a message a phone got.
type Received struct {
	Message
	Phone *Phone
}

// Reply answers from the phone that received the message.
func (r *Received) Reply(body string) *Phone { return r.Phone.Send(body) }
