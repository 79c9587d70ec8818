package hotline

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/sms/carrier"
)

// Routes registers the Twilio webhooks. Each handler authenticates first,
// then parses, calls the domain and renders; nothing else.
func (h *Hotline) Routes(r chi.Router) {
	r.Post("/twilio/sms", h.handle(h.handleSMS))
	r.Post("/twilio/status", h.handle(h.handleStatus))
	r.Post("/twilio/voice", h.handle(h.handleVoice))
	r.Post("/twilio/voice/lang", h.handle(h.handleVoiceLang))
	r.Post("/twilio/voice/danger", h.handle(h.handleVoiceDanger))
	r.Post("/twilio/voice/dialed", h.handle(h.handleVoiceDialed))
	r.Post("/twilio/voice/whisper", h.handle(h.handleVoiceWhisper))
}

// DemoRoutes registers the simulated phone page. Mount it only in demo mode.
func (h *Hotline) DemoRoutes(r chi.Router, sim *carrier.Carrier) {
	d := &demo{h: h, sim: sim}
	r.Get("/demo/phone", d.page)
	r.With(web.CrossOrigin).Post("/demo/phone/send", d.send)
}

// AddWorkers registers the hotline's River workers.
func AddWorkers(w *river.Workers, h *Hotline) {
	river.AddWorker(w, &expireWorker{h: h})
	river.AddWorker(w, &shredWorker{h: h})
	river.AddWorker(w, &dangerWorker{h: h})
}

// PeriodicJobs are the hotline's scheduled jobs, for river.Config.PeriodicJobs.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{jobs.Periodic(expireEvery, ExpireArgs{}), jobs.Periodic(shredEvery, ShredMessagesArgs{})}
}

func (h *Hotline) handleSMS(w http.ResponseWriter, r *http.Request) error {
	if err := h.readSigned(w, r); err != nil {
		return err
	}
	in, err := parseInboundSMS(r.PostForm)
	if err != nil {
		return err
	}
	replies, err := h.receiveSMS(r.Context(), in)
	if err != nil {
		return err
	}
	writeTwiML(w, messagingResponse{Messages: replies})
	return nil
}

func (h *Hotline) handleStatus(w http.ResponseWriter, r *http.Request) error {
	if err := h.readSigned(w, r); err != nil {
		return err
	}
	id, err := uuid.Parse(r.URL.Query().Get("m"))
	sid := r.PostForm.Get("MessageSid")
	if err != nil || !sidPattern.MatchString(sid) {
		return errMalformed
	}
	var code *int
	if c, err := strconv.Atoi(r.PostForm.Get("ErrorCode")); err == nil && c > 0 {
		code = &c
	}
	if err := h.sender.ApplyStatus(r.Context(), id, sid, r.PostForm.Get("MessageStatus"), code); err != nil {
		return fmt.Errorf("hotline: status callback for outbound %s: %w", id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
