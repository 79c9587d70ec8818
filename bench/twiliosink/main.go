// Command twiliosink serves the one Twilio REST call amparo makes (create a
// message) on a loopback address, backed by the simulated carrier, so that
// `amparo serve` can be benchmarked with TWILIO_API_URL pointing here instead
// of at Twilio. Delivery callbacks are posted, signed, to -public-url as
// Twilio would. It exits by itself after -max, or on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/amparo/amparo/sms/carrier"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	account := flag.String("account", os.Getenv("TWILIO_ACCOUNT_SID"), "account sid the server authenticates with")
	token := flag.String("token", os.Getenv("TWILIO_AUTH_TOKEN"), "auth token the server authenticates with")
	public := flag.String("public-url", os.Getenv("AMPARO_PUBLIC_URL"), "the server's AMPARO_PUBLIC_URL, for status callbacks")
	from := flag.String("hotline", os.Getenv("TWILIO_FROM_NUMBER"), "the hotline number")
	maxRun := flag.Duration("max", 30*time.Minute, "exit after this long")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "twiliosink: -addr must be a loopback ip:port")
		os.Exit(2)
	}
	sim := carrier.New(carrier.Config{AccountSID: *account, AuthToken: *token, PublicURL: *public, HotlineNumber: *from})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "twiliosink:", err)
		os.Exit(1)
	}
	fmt.Printf("twiliosink: listening on http://%s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxRun)
	defer cancel()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "twiliosink:", err)
		os.Exit(1)
	}
}
