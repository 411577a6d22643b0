package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
)

// restarter is "sluice hot-restarter [-base-id N] -- ARGS": Envoy's
// hot-restarter.py as a subcommand, so that a service manager that tracks
// one main process (systemd) can hot restart. It runs "sluice ARGS
// -base-id N -restart-epoch 0"; on SIGHUP it starts the binary found at
// its own path again (the upgraded one) with the next epoch, which takes
// over from the running one; SIGTERM and SIGINT go to every child once;
// it exits when no child is left, with the last one's status.
func restarter(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice hot-restarter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseID := fs.Int("base-id", 0, "the hot restart id passed to every epoch")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bin, err := os.Executable() // resolved now: an upgrade replaces the file at this path
	if err != nil {
		fmt.Fprintln(stderr, "sluice hot-restarter:", err)
		return 1
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	type child struct {
		epoch int
		cmd   *exec.Cmd
	}
	type exit struct {
		c   *child
		err error
	}
	exits := make(chan exit, 8)
	live := map[*child]bool{}
	var newest *child
	start := func(epoch int) error {
		cmd := exec.Command(bin, append(fs.Args(), "-base-id", strconv.Itoa(*baseID), "-restart-epoch", strconv.Itoa(epoch))...)
		cmd.Stdout, cmd.Stderr = os.Stdout, stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		c := &child{epoch: epoch, cmd: cmd}
		live[c], newest = true, c
		go func() { exits <- exit{c, cmd.Wait()} }()
		fmt.Fprintf(stderr, "sluice hot-restarter: started epoch %d, pid %d\n", epoch, cmd.Process.Pid)
		return nil
	}
	if err := start(0); err != nil {
		fmt.Fprintln(stderr, "sluice hot-restarter:", err)
		return 1
	}
	stopping := false
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP && !stopping {
				// The epoch after the newest live one: a failed upgrade is
				// retried under the same epoch, against the one that serves.
				if err := start(newest.epoch + 1); err != nil {
					fmt.Fprintln(stderr, "sluice hot-restarter: hot restart:", err)
				}
				continue
			}
			if stopping || sig == syscall.SIGHUP {
				continue // a child that got the signal once drains; twice would cut
			}
			stopping = true
			for c := range live {
				c.cmd.Process.Signal(sig)
			}
		case e := <-exits:
			delete(live, e.c)
			fmt.Fprintf(stderr, "sluice hot-restarter: epoch %d exited: %v\n", e.c.epoch, describe(e.err))
			if len(live) == 0 {
				var ee *exec.ExitError
				if errors.As(e.err, &ee) {
					return max(ee.ExitCode(), 1)
				}
				return 0
			}
			if e.c == newest {
				for c := range live { // the one that still serves
					if newest == e.c || c.epoch > newest.epoch {
						newest = c
					}
				}
			}
		}
	}
}

func describe(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
