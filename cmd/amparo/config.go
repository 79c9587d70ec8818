package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/amparo/amparo/hotline"
)

// config is everything amparo reads from its environment. Secrets may come
// from a file named by the variable with a _FILE suffix, so they need not sit
// in the process environment.
type config struct {
	DatabaseURL      string
	Addr             string
	MetricsAddr      string
	PublicURL        string
	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioFromNumber string
	TwilioAPIURL     string
	FallbackDuty     []string
	LogLevel         string
	// TimeZone is where survivors and staff are (AMPARO_TIME_ZONE, an IANA
	// name): what "yesterday" means to her, and the clock the portal shows.
	TimeZone *time.Location
}

// configErrors collects every problem so an operator fixes them in one go.
type configErrors []string

func (e configErrors) Error() string {
	return "configuration:\n  " + strings.Join(e, "\n  ")
}

// lookup returns the value of name, or the trimmed content of the file named
// by name_FILE. Setting both is an error: which one wins would be a guess.
func lookup(env Env, name string, errs *configErrors) string {
	v, file := env.Getenv(name), env.Getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		*errs = append(*errs, fmt.Sprintf("%s and %s_FILE are both set; set only one", name, name))
	case file != "":
		b, err := env.ReadFile(file)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("%s_FILE: cannot read %s: %v", name, file, errors.Unwrap(err)))
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return v
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	e164Pattern       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// needs says which groups of variables a subcommand requires.
type needs struct{ web, twilio bool }

func loadConfig(env Env, n needs) (config, error) {
	var errs configErrors
	c := config{
		DatabaseURL: lookup(env, "DATABASE_URL", &errs),
		Addr:        env.Getenv("AMPARO_ADDR"),
		MetricsAddr: env.Getenv("AMPARO_METRICS_ADDR"),
		PublicURL:   env.Getenv("AMPARO_PUBLIC_URL"),
		LogLevel:    env.Getenv("AMPARO_LOG_LEVEL"),
	}
	if c.DatabaseURL == "" {
		errs = append(errs, "DATABASE_URL is required: a PostgreSQL URL such as postgres://amparo@127.0.0.1:5432/amparo")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, "DATABASE_URL must be a postgres:// or postgresql:// URL")
	}
	zone := env.Getenv("AMPARO_TIME_ZONE")
	if zone == "" {
		zone = hotline.DefaultZone
	}
	if loc, err := time.LoadLocation(zone); err != nil || zone == "Local" {
		errs = append(errs, fmt.Sprintf("AMPARO_TIME_ZONE must be an IANA time zone name such as America/Lima or Europe/Madrid (got %q)", zone))
	} else {
		c.TimeZone = loc
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, "AMPARO_LOG_LEVEL must be one of debug, info, warn, error")
	}
	if n.web {
		if c.Addr == "" {
			c.Addr = "127.0.0.1:8080"
		}
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Sprintf("AMPARO_ADDR must be host:port, e.g. 127.0.0.1:8080 (got %q)", c.Addr))
		}
		if _, _, err := net.SplitHostPort(c.MetricsAddr); c.MetricsAddr != "" && err != nil {
			errs = append(errs, fmt.Sprintf("AMPARO_METRICS_ADDR must be host:port, e.g. 127.0.0.1:9090 (got %q)", c.MetricsAddr))
		}
		if u, err := url.Parse(c.PublicURL); c.PublicURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, "AMPARO_PUBLIC_URL is required: the absolute URL Twilio calls, e.g. https://amparo.example.org (webhook signatures are checked against it)")
		}
	}
	if n.twilio {
		c.TwilioAccountSID = env.Getenv("TWILIO_ACCOUNT_SID")
		c.TwilioAuthToken = lookup(env, "TWILIO_AUTH_TOKEN", &errs)
		c.TwilioFromNumber = env.Getenv("TWILIO_FROM_NUMBER")
		c.TwilioAPIURL = env.Getenv("TWILIO_API_URL")
		if !accountSIDPattern.MatchString(c.TwilioAccountSID) {
			errs = append(errs, "TWILIO_ACCOUNT_SID is required: 'AC' followed by 32 hexadecimal characters")
		}
		if c.TwilioAuthToken == "" {
			errs = append(errs, "TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE) is required")
		}
		if !e164Pattern.MatchString(c.TwilioFromNumber) {
			errs = append(errs, "TWILIO_FROM_NUMBER is required: the hotline number in E.164 form, e.g. +51987000000")
		}
		for _, number := range strings.Split(env.Getenv("AMPARO_FALLBACK_DUTY_NUMBERS"), ",") {
			if number = strings.TrimSpace(number); number == "" {
				continue
			}
			if !e164Pattern.MatchString(number) {
				errs = append(errs, fmt.Sprintf("AMPARO_FALLBACK_DUTY_NUMBERS must be E.164 numbers separated by commas, e.g. +51944000001,+51944000002 (entry %d is not)", len(c.FallbackDuty)+1))
				continue
			}
			c.FallbackDuty = append(c.FallbackDuty, number)
		}
		if c.TwilioAPIURL != "" {
			if u, err := url.Parse(c.TwilioAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, "TWILIO_API_URL must be an absolute http(s) URL of a Twilio-compatible API")
			}
		}
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}
