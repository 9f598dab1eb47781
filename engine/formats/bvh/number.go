package bvh

import (
	"math"
	"slices"
	"strconv"
)

// pow10 holds the powers of ten that are exact in a float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses one number token. Plain decimals ("-12.3456", and
// "-6.89894e-16" as some exporters write near-zero angles) take a fast path:
// an integer mantissa below 2^53 multiplied or divided once by an exact power
// of ten is correctly rounded, so the result equals strconv.ParseFloat's.
// Anything else goes to strconv. Non-finite values are rejected.
func parseFloat(tok []byte) (float64, bool) {
	i, neg := 0, false
	if len(tok) > 0 && (tok[0] == '-' || tok[0] == '+') {
		neg = tok[0] == '-'
		i = 1
	}
	var mant uint64
	sig, frac, ndig, dot := 0, 0, 0, false
	for ; i < len(tok); i++ {
		c := tok[i]
		if c >= '0' && c <= '9' {
			if sig == 18 {
				return parseSlow(tok)
			}
			mant = mant*10 + uint64(c-'0')
			ndig++
			if mant != 0 {
				sig++
			}
			if dot {
				frac++
			}
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
	}
	if ndig == 0 || mant > 1<<53 {
		return parseSlow(tok)
	}
	e10 := -frac
	if i < len(tok) { // an exponent: [eE][+-]digits, up to three of them
		if tok[i] != 'e' && tok[i] != 'E' || i+1 == len(tok) {
			return parseSlow(tok)
		}
		i++
		eneg := false
		if tok[i] == '-' || tok[i] == '+' {
			eneg = tok[i] == '-'
			i++
		}
		if i == len(tok) || len(tok)-i > 3 {
			return parseSlow(tok)
		}
		exp := 0
		for ; i < len(tok); i++ {
			c := tok[i]
			if c < '0' || c > '9' {
				return parseSlow(tok)
			}
			exp = exp*10 + int(c-'0')
		}
		if eneg {
			exp = -exp
		}
		e10 += exp
	}
	v := float64(mant)
	switch {
	case mant == 0:
	case e10 < 0 && -e10 < len(pow10):
		v /= pow10[-e10]
	case e10 >= 0 && e10 < len(pow10):
		v *= pow10[e10]
	default:
		return parseSlow(tok)
	}
	if math.IsInf(v, 0) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func parseSlow(tok []byte) (float64, bool) {
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// appendFixed appends v rounded to dec decimals with trailing zeros trimmed
// ("1.5", "-0.000125", "0").
func appendFixed(b []byte, v float64, dec int) []byte {
	if cap(b)-len(b) < fixedMax {
		b = slices.Grow(b, fixedMax)
	}
	n := putFixed((*[fixedMax]byte)(b[len(b):len(b)+fixedMax]), v, dec)
	if n < 0 {
		return appendTrimmed(b, v, dec)
	}
	return b[:len(b)+n]
}

// fixedMax bounds what putFixed writes: sign, 13 integer digits, point, 6
// decimals.
const fixedMax = 24

// putFixed writes v rounded to dec decimals (4 or 6, the two the writer
// uses) into dst with trailing zeros trimmed and returns the length, or -1
// for anything it does not handle (other decimals, |v| ≥ 1e12), which
// appendTrimmed then formats. It writes the digits itself, two at a time,
// into fixed-size storage: a clip holds millions of values and
// strconv.AppendFloat's 'f' format was the writer's largest cost.
func putFixed(dst *[fixedMax]byte, v float64, dec int) int {
	x := math.Round(v * pow10[dec])
	if (dec != 4 && dec != 6) || !(math.Abs(x) < 1e18) || math.Abs(v) >= 1e12 {
		return -1
	}
	if x == 0 {
		dst[0] = '0'
		return 1
	}
	n := 0
	if x < 0 {
		dst[0] = '-'
		n = 1
		x = -x
	}
	u := uint64(x)
	var ip, f uint64
	if dec == 6 { // constant divisors compile to multiplications
		ip, f = u/1e6, u%1e6
	} else {
		ip, f = u/1e4, u%1e4
	}
	switch {
	case ip < 10:
		dst[n] = byte('0' + ip)
		n++
	case ip < 100:
		dst[n], dst[n+1] = digitPairs[2*ip], digitPairs[2*ip+1]
		n += 2
	case ip < 1000:
		dst[n] = byte('0' + ip/100)
		r := ip % 100
		dst[n+1], dst[n+2] = digitPairs[2*r], digitPairs[2*r+1]
		n += 3
	default:
		n += len(strconv.AppendUint(dst[n:n], ip, 10))
	}
	if f == 0 {
		return n
	}
	dst[n] = '.'
	end := n + 1 + dec
	for p := end; p > n+1; p -= 2 {
		r := f % 100
		f /= 100
		dst[p-1], dst[p-2] = digitPairs[2*r+1], digitPairs[2*r]
	}
	for dst[end-1] == '0' {
		end--
	}
	return end
}

// appendTrimmed is the slow path: strconv with trailing zeros trimmed.
func appendTrimmed(b []byte, v float64, dec int) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', dec, 64)
	if dec > 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if s := string(b[start:]); s == "-0" {
		b = append(b[:start], '0')
	}
	return b
}
