package main

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

func TestTmpProbe(t *testing.T) {
	s := startEmbedSites(t)
	flags := []chromedp.ExecAllocatorOption{chromedp.Flag("host-resolver-rules", s.rules), chromedp.Flag("ignore-certificate-errors", true)}
	if os.Getenv("PHASEOUT") != "" {
		flags = append(flags, chromedp.Flag("test-third-party-cookie-phaseout", true))
	}
	ctx := newBrowser(t, flags...)
	var acts []chromedp.Action
	if c := os.Getenv("CONTROLS"); c != "" {
		acts = append(acts, network.Enable(), network.SetCookieControls(c == "block", false, true))
	}
	acts = append(acts,
		chromedp.Navigate(s.probeURL+"/set-plain"),
		chromedp.Navigate(s.intranet+"/?src="+s.probeURL+"/set-partitioned"), chromedp.Sleep(time.Second),
		chromedp.Navigate(s.intranet+"/?src="+s.probeURL+"/framed"), chromedp.Sleep(time.Second))
	browse(t, ctx, 20*time.Second, acts...)
	f, _ := s.probe.cookies("/framed")
	t.Logf("framed: %q", f)
}
