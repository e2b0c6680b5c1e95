#include "compiler/syntax/parser.h"

#include <chrono>

#include "SegParser.h"
#include "antlr4-runtime.h"
#include "base/large_stack.h"
#include "compiler/syntax/ast_builder.h"
#include "compiler/syntax/syntax_errors.h"
#include "compiler/syntax/token_pass.h"

namespace seg::syntax {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void reportInvalidUtf8(const SourceFile& source, FileId file, DiagnosticEngine& diags) {
  for (const InvalidUtf8& bad : source.invalidUtf8()) {
    const SourceRange range{file, bad.position, {bad.position.line, bad.position.column + 1}};
    diags.report(DiagId::InvalidUtf8, range, static_cast<unsigned>(bad.byte))
        .addHelp("seg files must be UTF-8; re-save the file as UTF-8 (not Shift_JIS)");
    if (diags.limitReached()) return;
  }
}

// Parses one chunk. First in the fast SLL mode that bails at the first
// error; only a chunk with errors pays for full LL parsing with recovery.
SegParser::ProgramContext* parseChunk(SegParser& parser, antlr4::CommonTokenStream& tokens,
                                      const std::shared_ptr<SyntaxErrorStrategy>& strategy) {
  auto* simulator = parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  simulator->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  try {
    return parser.program();
  } catch (const antlr4::ParseCancellationException&) {
  }
  tokens.seek(0);
  parser.reset();
  parser.setErrorHandler(strategy);
  simulator->setPredictionMode(antlr4::atn::PredictionMode::LL);
  return parser.program();
}

ast::Program parseOnThisThread(const SourceManager& sources, FileId file, DiagnosticEngine& diags,
                               ParseTimes& times) {
  const SourceFile& source = sources.file(file);
  reportInvalidUtf8(source, file, diags);
  ast::Program program;
  program.file = file;

  Lexer lexer(source.text());
  TokenPass pass(lexer, file, diags);

  // The parser and its error strategy are reused for every chunk.
  std::vector<std::unique_ptr<antlr4::Token>> noTokens;
  noTokens.push_back(std::make_unique<antlr4::CommonToken>(antlr4::Token::EOF, "<EOF>"));
  antlr4::ListTokenSource emptySource(std::move(noTokens));
  antlr4::CommonTokenStream emptyTokens(&emptySource);
  SegParser parser(&emptyTokens);
  parser.removeErrorListeners();
  const TokenGroups groups(parser.getATN());
  auto strategy = std::make_shared<SyntaxErrorStrategy>(file, diags, pass.state(), groups);
  AstBuilder builder(file, diags);

  for (;;) {
    auto start = Clock::now();
    std::optional<Chunk> chunk = pass.nextChunk();
    times.lexSeconds += secondsSince(start);
    if (!chunk || pass.state().tooDeep || diags.limitReached()) break;

    start = Clock::now();
    strategy->startChunk(*chunk);
    antlr4::ListTokenSource tokenSource(std::move(chunk->tokens));
    antlr4::CommonTokenStream tokens(&tokenSource);
    parser.setTokenStream(&tokens);
    SegParser::ProgramContext* tree = nullptr;
    try {
      tree = parseChunk(parser, tokens, strategy);
    } catch (const ParseAborted&) {
    }
    times.parseSeconds += secondsSince(start);

    start = Clock::now();
    builder.append(tree, program);
    parser.reset();  // frees this chunk's parse tree
    times.buildSeconds += secondsSince(start);
    if (tree == nullptr) break;
  }
  parser.setTokenStream(&emptyTokens);
  times.tokens = pass.state().tokenCount;

  if (program.decls.empty() && !diags.hasErrors()) {
    diags.report(DiagId::EmptyProgram, SourceRange{file, {1, 1}, {1, 1}})
        .addHelp("a program declares segments, messages, scenarios or campaigns, such as `segment vip = tag \"VIP\"`");
  }
  return program;
}

}  // namespace

ast::Program parseFile(const SourceManager& sources, FileId file, DiagnosticEngine& diags,
                       ParseTimes* times) {
  ast::Program program;
  ParseTimes local;
  // Nesting is limited (kMaxNesting), so a small file parses on any thread;
  // a large one gets a large stack, as the parser's frames add up.
  constexpr std::size_t kSmallSource = 256u << 10;
  if (sources.file(file).text().size() < kSmallSource) {
    program = parseOnThisThread(sources, file, diags, local);
  } else {
    runWithLargeStack([&] { program = parseOnThisThread(sources, file, diags, local); });
  }
  if (times != nullptr) *times = local;
  return program;
}

}  // namespace seg::syntax
