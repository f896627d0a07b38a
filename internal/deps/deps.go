package deps
import (
 _ "go.mongodb.org/mongo-driver/v2/mongo"
 _ "github.com/redis/go-redis/v9"
 _ "github.com/alicebob/miniredis/v2"
 _ "modernc.org/sqlite"
 _ "github.com/aws/aws-sdk-go-v2/service/sns"
 _ "github.com/aws/aws-sdk-go-v2/service/sqs"
 _ "github.com/aws/aws-sdk-go-v2/config"
 _ "github.com/stretchr/testify/require"
 _ "go.uber.org/goleak"
 _ "golang.org/x/sync/singleflight"
)
