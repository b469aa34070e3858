package consume

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/receive"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// BenchmarkDecode: decoding deliveries as daprd makes them of Gatekeeper's
// publishes (a CloudEvent whose data is the violation's JSON as a string),
// the consumer's receive.Decode beside the same steps with encoding/json,
// which it used before (decode-throughput lines).
func BenchmarkDecode(b *testing.B) {
	run := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	bodies := make([][]byte, delivered)
	for i := range bodies {
		bodies[i] = body(run, i)
	}
	std := func(body []byte) error {
		var ce struct {
			SpecVersion     string          `json:"specversion"`
			DataContentType string          `json:"datacontenttype"`
			Data            json.RawMessage `json:"data"`
			DataBase64      string          `json:"data_base64"`
		}
		if err := json.Unmarshal(body, &ce); err != nil {
			return err
		}
		var inner string
		if err := json.Unmarshal(ce.Data, &inner); err != nil {
			return err
		}
		var v violation.Violation
		if err := json.Unmarshal([]byte(inner), &v); err != nil {
			return err
		}
		if _, err := time.Parse(time.RFC3339, v.ID); err != nil || v.ResourceName == "" {
			return fmt.Errorf("decoded %+v (%w)", v, err)
		}
		return nil
	}
	consumer := func(body []byte) error {
		msg, ignore, _, err := receive.Decode(body, 256<<10)
		if err == nil && (ignore || msg.Violation.ResourceName == "") {
			err = fmt.Errorf("decoded %+v", msg)
		}
		return err
	}
	perS := map[string]float64{}
	for _, lib := range []struct {
		name   string
		decode func([]byte) error
	}{{"encoding/json", std}, {"consumer", consumer}} {
		b.Run("lib="+lib.name, func(b *testing.B) {
			start := time.Now()
			for range b.N {
				for _, body := range bodies {
					if err := lib.decode(body); err != nil {
						b.Fatal(err)
					}
				}
			}
			perS[lib.name] = float64(b.N*len(bodies)) / time.Since(start).Seconds()
			b.ReportMetric(perS[lib.name], "messages/s")
		})
	}
	fmt.Printf("decode-throughput: messages=%d encoding_json_per_s=%.0f consumer_per_s=%.0f ratio=%.2f (one core)\n",
		delivered, perS["encoding/json"], perS["consumer"], perS["consumer"]/perS["encoding/json"])
}
