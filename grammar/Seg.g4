// The seg rule language.
//
// This grammar is the authority on syntax. It accepts a superset of what is
// valid: literal contents (dates, clocks, duration units, escapes), names and
// types are checked after parsing, so that those errors can say exactly what
// is wrong instead of "unexpected token".
//
// Words that start a declaration or glue expressions together are reserved.
// Every other word the language uses (`day`, `send`, `text`, `count`, ...)
// is a contextual keyword: it is also accepted where a name is expected, so
// that an event field can be called `text` or an attribute `score_day`.

grammar Seg;

// ---------------------------------------------------------------- program

program : declaration* EOF ;

declaration
    : useDecl
    | schemaDecl
    | catalogDecl
    | segmentDecl
    | messageDecl
    | richmenuDecl
    | menusDecl
    | scenarioDecl
    | ruleDecl
    | campaignDecl
    | policyDecl
    | tagsDecl
    | testDecl
    ;

useDecl : USE name ;

// ---------------------------------------------------------------- schema

schemaDecl : SCHEMA '{' schemaMember* '}' ;

schemaMember
    : name ':' typeExpr                                        # attributeDecl
    | EVENT name '(' (fieldDecl (',' fieldDecl)* ','?)? ')'    # eventDecl
    ;

fieldDecl : name ':' typeExpr ;

// ---------------------------------------------------------------- catalogs

// A table of things friends' events refer to (products): `id` keys it.
catalogDecl : CATALOG name '{' (fieldDecl ','?)* '}' ;

typeExpr
    : ENUM '(' enumValue (',' enumValue)* ','? ')'             # enumType
    | name                                                     # namedType
    ;

// A value with an optional label accepted in its place: `jp_13 = "東京都"`.
enumValue : name ('=' string)? ;

// ---------------------------------------------------------------- segments

segmentDecl : SEGMENT name '=' expr ;

// ---------------------------------------------------------------- messages

messageDecl : MESSAGE name paramList? '=' messageBody ;

paramList : '(' (paramDecl (',' paramDecl)* ','?)? ')' ;

paramDecl : name ':' typeExpr ;

messageBody
    : TEXT string                                   # textMessage
    | FLEX string ALT string                        # flexMessage
    | IMAGE string (PREVIEW string)?                # imageMessage
    | STICKER INT INT                               # stickerMessage
    ;

// ---------------------------------------------------------------- rich menus

richmenuDecl : RICHMENU name '=' string ;

menusDecl : MENUS '{' menuRule* '}' ;

menuRule
    : DEFAULT '->' name                             # defaultMenuRule
    | expr '->' name                                # conditionalMenuRule
    ;

// ---------------------------------------------------------------- scenarios

scenarioDecl
    : SCENARIO name ON triggerSpec (AS name)? (PER operand)? (WHERE expr)? '{' scenarioItem* '}'
    ;

trigger : name | MESSAGE ;

// What starts a rule or a scenario: an event (`on cart_add`), a date
// attribute's day each year (`on birthday at 09:00`), or a friend entering
// or leaving a segment (`on enter vip`).
triggerSpec
    : change=(ENTER | LEAVE) name                   # segmentTrigger
    | trigger (AT clockLit)?                        # eventTrigger
    ;

scenarioItem
    : EXIT WHEN expr                                # exitClause
    | REENTER reentry                               # reentryClause
    | stepTiming (WHEN expr)? ':' actionList        # step
    ;

reentry
    : NEVER                                         # reentryNever
    | ALWAYS                                        # reentryAlways
    | AFTER durationLit                             # reentryAfter
    ;

stepTiming
    : DAY INT (AT clockLit)?                        # dayTiming
    | AFTER durationLit                             # afterTiming
    ;

// Actions may be separated by `;` or simply by line breaks.
actionList : action (';'? action)* ';'? ;

action
    : SEND messageRef (',' messageRef)*             # sendAction
    | REPLY messageRef (',' messageRef)*            # replyAction
    | TAG string                                    # tagAction
    | UNTAG string                                  # untagAction
    | SCORE op=('+=' | '-=' | '=') expr             # scoreAction
    | SET name op=('=' | '+=' | '-=') expr          # setAction
    | RICHMENU name                                 # richmenuAction
    | START name                                    # startAction
    | STOP name                                     # stopAction
    | ifStatement                                   # ifAction
    ;

ifStatement : IF expr block (ELSE (block | ifStatement))? ;

block : '{' actionList? '}' ;

messageRef : name ('(' (namedArg (',' namedArg)* ','?)? ')')? ;

namedArg : name ':' expr ;

// ---------------------------------------------------------------- rules

ruleDecl : ON triggerSpec (WHERE expr)? block ;

// ---------------------------------------------------------------- campaigns

campaignDecl : CAMPAIGN name '{' campaignItem* '}' ;

campaignItem
    : TO expr                                       # campaignAudience
    | AT timeLit                                    # campaignSchedule
    | EVERY recurrence                              # campaignRecurrence
    | LIMIT INT                                     # campaignLimit
    | SPLIT '{' splitArm (';'? splitArm)* ';'? '}'  # campaignSplit
    | SEND messageRef (',' messageRef)*             # campaignSend
    ;

// `every day at 09:00`, `every monday at 12:00`, `every month on day 1 at
// 10:00`: the unit is a name checked after parsing.
recurrence : name (ON DAY INT)? AT clockLit ;

splitArm : PERCENT ':' splitAction ;

splitAction
    : SEND messageRef (',' messageRef)*             # sendArm
    | HOLDOUT                                       # holdoutArm
    ;

// ---------------------------------------------------------------- policy

policyDecl : POLICY '{' policyItem* '}' ;

policyItem
    : TIMEZONE string                               # timezonePolicy
    | QUIET clockLit '..' clockLit                  # quietPolicy
    | CAP INT PER durationLit                       # capPolicy
    | MIN_REACH INT                                 # minReachPolicy
    | EXPIRED_REPLY name                            # expiredReplyPolicy
    | BEYOND_QUOTA name                             # beyondQuotaPolicy
    ;

// ---------------------------------------------------------------- tags

// The tags the program uses: once declared, any other is a warning (a typo).
tagsDecl : TAGS '{' (string (','? string)*)? ','? '}' ;

// ---------------------------------------------------------------- tests

testDecl : TEST string '{' testItem* '}' ;

testItem
    : GIVEN FRIEND objectLit                        # givenFriend
    | GIVEN trigger objectLit? (AT timeLit)?        # givenEvent
    | AT timeLit                                    # testClock
    | EXPECT expectation                            # expectItem
    ;

expectation
    : NOT? IN name                                  # expectMembership
    | MENU '==' name                                # expectMenu
    | NOT? SENT messageRef (AT timeLit)?            # expectSent
    | expr                                          # expectCondition
    ;

objectLit : '{' (objectField (',' objectField)* ','?)? '}' ;

objectField : name ':' expr ;

// ---------------------------------------------------------------- expressions
// Two levels: `expr` (boolean structure and comparisons) over `operand`
// (arithmetic and member access). ANTLR gives earlier alternatives of a
// left-recursive rule tighter binding: `not` > `and` > `or`, and
// `.` > unary `-` > `+ -`. Few levels keep parse trees small.

expr
    : NOT expr                                      # notExpr
    | expr AND expr                                 # andExpr
    | expr OR expr                                  # orExpr
    | operand comparisonTail?                       # comparisonExpr
    ;

// Left-factored so that the parser decides on the operator token alone:
// errors are then reported where they are, not at the operand's start.
comparisonTail
    : op=('==' | '!=' | '<' | '<=' | '>' | '>=') operand              # compareTail
    | NOT? IN collection                                              # inTail
    | BETWEEN low=operand AND high=operand                            # betweenTail
    | op=(CONTAINS | STARTS_WITH | ENDS_WITH | MATCHES) operand       # stringTail
    ;

collection
    : '[' (operand (',' operand)* ','?)? ']'        # listCollection
    | operand '..' operand                          # rangeCollection
    ;

operand
    : operand '.' name '(' (expr (',' expr)* ','?)? ')'   # methodCall
    | operand '.' name                              # memberAccess
    | '-' operand                                   # negate
    | operand op=('+' | '-') operand                # addSub
    | primary                                       # primaryOperand
    ;

primary
    : INT                                           # intLiteral
    | PERCENT                                       # percentLiteral
    | string                                        # stringLiteral
    | DATE                                          # dateLiteral
    | DATETIME                                      # datetimeLiteral
    | CLOCK                                         # clockLiteral
    | UNIT_NUMBER                                   # durationLiteral
    | (TRUE | FALSE)                                # boolLiteral
    | aggregate                                     # aggregatePrimary
    | TAG string                                    # tagPrimary
    | AUDIENCE string                               # audiencePrimary
    | name '(' (expr (',' expr)* ','?)? ')'         # callPrimary
    | name                                          # namePrimary
    | '(' expr ')'                                  # parenPrimary
    ;

aggregate
    : fn=(EXISTS | COUNT | SUM | MIN | MAX | LAST)
      '(' source=operand (WHERE where=expr)? (',' window)? ')'
    ;

window
    : WITHIN durationLit                            # withinWindow
    | SINCE operand                                 # sinceWindow
    ;

string : STRING | UNTERMINATED_STRING ;
durationLit : UNIT_NUMBER ;
clockLit : CLOCK ;
timeLit : DATETIME | DATE ;

// A name. Contextual keywords are listed here so they stay usable as names
// (`message` names the built-in event: `exists(message where ...)`).
name
    : ID
    | MESSAGE
    | TEXT | FLEX | IMAGE | ALT | PREVIEW | STICKER
    | DAY | AT | AFTER | SEND | REPLY | TAG | UNTAG | SCORE | SET | START | STOP
    | REENTER | NEVER | ALWAYS
    | TO | LIMIT | SPLIT | HOLDOUT | EVERY | ENTER | LEAVE | CATALOG
    | TIMEZONE | QUIET | CAP | PER | MIN_REACH | EXPIRED_REPLY | BEYOND_QUOTA | TAGS
    | GIVEN | FRIEND | EXPECT | MENU | SENT
    | AUDIENCE | EXISTS | COUNT | SUM | MIN | MAX | LAST | WITHIN | SINCE
    | CONTAINS | STARTS_WITH | ENDS_WITH | MATCHES | DEFAULT
    ;

// ================================================================= lexer

// Reserved words.
USE       : 'use' ;
SCHEMA    : 'schema' ;
EVENT     : 'event' ;
ENUM      : 'enum' ;
SEGMENT   : 'segment' ;
MESSAGE   : 'message' ;
RICHMENU  : 'richmenu' ;
MENUS     : 'menus' ;
SCENARIO  : 'scenario' ;
ON        : 'on' ;
CAMPAIGN  : 'campaign' ;
POLICY    : 'policy' ;
TEST      : 'test' ;
AND       : 'and' ;
OR        : 'or' ;
NOT       : 'not' ;
IN        : 'in' ;
BETWEEN   : 'between' ;
TRUE      : 'true' ;
FALSE     : 'false' ;
IF        : 'if' ;
ELSE      : 'else' ;
WHERE     : 'where' ;
AS        : 'as' ;
EXIT      : 'exit' ;
WHEN      : 'when' ;

// Contextual keywords (see `name`).
TEXT        : 'text' ;
FLEX        : 'flex' ;
IMAGE       : 'image' ;
ALT         : 'alt' ;
PREVIEW     : 'preview' ;
STICKER     : 'sticker' ;
DAY         : 'day' ;
AT          : 'at' ;
AFTER       : 'after' ;
SEND        : 'send' ;
REPLY       : 'reply' ;
TAG         : 'tag' ;
UNTAG       : 'untag' ;
SCORE       : 'score' ;
SET         : 'set' ;
START       : 'start' ;
STOP        : 'stop' ;
REENTER     : 'reenter' ;
NEVER       : 'never' ;
ALWAYS      : 'always' ;
TO          : 'to' ;
LIMIT       : 'limit' ;
SPLIT       : 'split' ;
HOLDOUT     : 'holdout' ;
EVERY       : 'every' ;
CATALOG     : 'catalog' ;
ENTER       : 'enter' ;
LEAVE       : 'leave' ;
TIMEZONE    : 'timezone' ;
QUIET       : 'quiet' ;
CAP         : 'cap' ;
PER         : 'per' ;
MIN_REACH   : 'min_reach' ;
EXPIRED_REPLY : 'expired_reply' ;
BEYOND_QUOTA : 'beyond_quota' ;
TAGS        : 'tags' ;
GIVEN       : 'given' ;
FRIEND      : 'friend' ;
EXPECT      : 'expect' ;
MENU        : 'menu' ;
SENT        : 'sent' ;
DEFAULT     : 'default' ;
AUDIENCE    : 'audience' ;
EXISTS      : 'exists' ;
COUNT       : 'count' ;
SUM         : 'sum' ;
MIN         : 'min' ;
MAX         : 'max' ;
LAST        : 'last' ;
WITHIN      : 'within' ;
SINCE       : 'since' ;
CONTAINS    : 'contains' ;
STARTS_WITH : 'starts_with' ;
ENDS_WITH   : 'ends_with' ;
MATCHES     : 'matches' ;

// Punctuation.
LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
LBRACKET : '[' ;
RBRACKET : ']' ;
COMMA    : ',' ;
SEMI     : ';' ;
COLON    : ':' ;
DOT      : '.' ;
DOTDOT   : '..' ;
ARROW    : '->' ;
ASSIGN   : '=' ;
PLUS_EQ  : '+=' ;
MINUS_EQ : '-=' ;
EQ       : '==' ;
NE       : '!=' ;
LE       : '<=' ;
GE       : '>=' ;
LT       : '<' ;
GT       : '>' ;
PLUS     : '+' ;
MINUS    : '-' ;

// Literals. Their contents are validated when the syntax tree is built.
DATETIME : DIGIT DIGIT DIGIT DIGIT '-' DIGIT DIGIT '-' DIGIT DIGIT
           ('T' | ' ') DIGIT DIGIT ':' DIGIT DIGIT (':' DIGIT DIGIT)?
           ('Z' | [+-] DIGIT DIGIT ':' DIGIT DIGIT)? ;
DATE     : DIGIT DIGIT DIGIT DIGIT '-' DIGIT DIGIT '-' DIGIT DIGIT ;
CLOCK    : DIGIT DIGIT? ':' DIGIT DIGIT ;
PERCENT  : DIGIT+ ('.' DIGIT+)? '%' ;
// A number with a unit (`30d`, `15m`); the unit is checked later so that
// `3w` gets a precise message rather than two unrelated tokens.
UNIT_NUMBER : DIGIT+ [a-zA-Z_] [a-zA-Z_0-9]* ;
INT      : DIGIT+ ;

STRING   : '"' (ESCAPE | ~["\\\r\n])* '"' ;
// A string that reaches the end of its line: reported as one clear error.
UNTERMINATED_STRING : '"' (ESCAPE | ~["\\\r\n])* '\\'? ;

ID       : [a-zA-Z_] [a-zA-Z_0-9]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
// Cannot contain `*/`, so it only wins when the comment never ends.
UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF ;
WS            : [ \t\r\n\u000C\uFEFF]+ -> channel(HIDDEN) ;

// Anything else is one bad character; the parser never sees it.
BAD_CHAR : . ;

fragment DIGIT  : [0-9] ;
fragment ESCAPE : '\\' ~[\r\n] ;
