package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the benchmarks ran.
type Machine struct {
	CPU       string
	Cores     int
	MemoryGiB float64
	Go        string
	OS        string
}

// ReadMachine reads the CPU model and core count from cpuinfo and the RAM
// from meminfo (the /proc files on Linux); fields it cannot read stay
// empty. goVersion is the toolchain that ran the benchmarks.
func ReadMachine(cpuinfo, meminfo, goVersion string) Machine {
	m := Machine{Go: goVersion, OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open(cpuinfo); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				if m.CPU == "" {
					m.CPU = strings.TrimSpace(v)
				}
			case "processor":
				m.Cores++
			}
		}
		_ = f.Close()
	}
	if f, err := os.Open(meminfo); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.MemoryGiB = kb / (1 << 20)
				}
			}
		}
		_ = f.Close()
	}
	return m
}

func (m Machine) String() string {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	return fmt.Sprintf("%s, %d cores, %.1f GiB RAM, %s, %s", cpu, m.Cores, m.MemoryGiB, m.OS, m.Go)
}
